//! `gather`: proves that calls run at the same time without timing them. Each call counts
//! itself into its group and returns once `n` calls of the group have arrived; if the host ran
//! fewer than `n` at once, the early ones never see the rest and fail at the deadline.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fastmcp_sdk::prelude::*;

/// Calls that have arrived, per group. Never decremented: a group is one test's run.
static ARRIVED: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);

fn arrive(group: &str) -> usize {
    let mut arrived = ARRIVED.lock().unwrap_or_else(|e| e.into_inner());
    let count = arrived
        .get_or_insert_with(HashMap::new)
        .entry(group.to_owned())
        .or_default();
    *count += 1;
    *count
}

fn arrived(group: &str) -> usize {
    let arrived = ARRIVED.lock().unwrap_or_else(|e| e.into_inner());
    arrived
        .as_ref()
        .and_then(|m| m.get(group).copied())
        .unwrap_or(0)
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct GatherArgs {
    /// A name for this set of calls (one per test run)
    group: String,
    /// How many calls of the group must be running at once
    n: usize,
    /// How long to wait for them, in milliseconds (the failure bound, not a measurement)
    timeout_ms: u64,
}

/// Returns once `n` calls of `group` have arrived while this one waits (async: holds no thread)
#[tool]
pub(crate) async fn gather(args: GatherArgs) -> Result<String, ToolError> {
    arrive(&args.group);
    let deadline = Instant::now() + Duration::from_millis(args.timeout_ms);
    loop {
        let seen = arrived(&args.group);
        if seen >= args.n {
            return Ok(format!("{} calls ran at once", args.n));
        }
        if Instant::now() >= deadline {
            return Err(ToolError::new(format!(
                "only {seen} of {} calls ran at once",
                args.n
            )));
        }
        fastmcp_sdk::tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
