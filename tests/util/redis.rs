//! A throwaway `redis-server` for the tests of the Redis session and task stores.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{eventually, free_port};

/// A throwaway `redis-server` on 127.0.0.1, killed on drop.
pub struct Redis {
    child: Child,
    pub port: u16,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a `redis-server` on a free port of 127.0.0.1 (`None`: not installed, and not required).
pub fn redis() -> Option<Redis> {
    let port = free_port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("FASTMCP_TEST_REQUIRE_INFRA").is_none(),
                "redis-server is required here (scripts/test.sh installs it): {e}"
            );
            eprintln!("notice: redis-server not installed; skipping the Redis session store test");
            return None;
        }
    };
    let up = eventually(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "redis-server did not start");
    Some(Redis { child, port })
}
