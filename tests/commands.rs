//! The one-shot subcommands: `fastmcp inspect` (table and `--json`) and `fastmcp call`, whose
//! exit code says whether the tool succeeded.

use std::time::Duration;

use serde_json::Value;

use crate::util::{self, plugins};

const WITHIN: Duration = Duration::from_secs(30);

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn inspect_prints_the_tools_and_their_arguments() {
    let out = util::run_bin(&["inspect", path(&plugins().calculator)], &[], WITHIN);
    assert_eq!(out.code, Some(0), "{out:?}");
    let row = |name: &str| {
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{}", out.stdout))
            .to_string()
    };
    assert!(row("calculate").contains("Perform a calculation"));
    assert!(
        row("operation").contains("add|subtract|multiply|divide"),
        "{}",
        out.stdout
    );
    assert!(row("operation").contains("required"));
    assert!(row("a").contains("number"));
    assert!(row("b").contains("The second operand"));
}

#[test]
fn inspect_json_prints_the_manifest() {
    let out = util::run_bin(
        &["inspect", "--json", path(&plugins().calculator)],
        &[],
        WITHIN,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("inspect --json prints JSON");
    assert_eq!(v["name"], "calculator");
    assert_eq!(v["tools"][0]["name"], "calculate");
    assert_eq!(v["tools"][0]["inputSchema"]["type"], "object");
}

#[test]
fn call_prints_the_result_and_exits_0() {
    let out = util::run_bin(
        &[
            "call",
            path(&plugins().calculator),
            "calculate",
            "--args",
            r#"{"operation":"add","a":2,"b":3}"#,
        ],
        &[],
        WITHIN,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("Result: 5"), "{}", out.stdout);
}

#[test]
fn a_failing_call_exits_non_zero_with_the_message() {
    let out = util::run_bin(
        &[
            "call",
            path(&plugins().test_plugin),
            "fail",
            "--args",
            r#"{"message":"boom"}"#,
        ],
        &[],
        WITHIN,
    );
    assert_ne!(out.code, Some(0), "{out:?}");
    assert!(out.code.is_some(), "ended by a signal: {out:?}");
    assert!(out.stdout.contains("boom"), "{out:?}");

    let out = util::run_bin(
        &["call", path(&plugins().test_plugin), "no_such_tool"],
        &[],
        WITHIN,
    );
    assert_ne!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("no_such_tool"), "{out:?}");
}

#[test]
fn call_args_must_be_a_json_object() {
    let out = util::run_bin(
        &[
            "call",
            path(&plugins().calculator),
            "calculate",
            "--args",
            "[1]",
        ],
        &[],
        WITHIN,
    );
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--args"), "{out:?}");
}

#[test]
fn call_runs_as_the_local_caller_that_access_rules_never_refuse() {
    let run =
        |tool: &str| util::run_bin(&["call", path(&plugins().test_plugin), tool], &[], WITHIN);
    let secret = run("secret");
    assert_eq!(secret.code, Some(0), "{secret:?}");
    assert!(secret.stdout.contains("the secret"), "{secret:?}");
    let whoami = run("whoami");
    assert_eq!(whoami.code, Some(0), "{whoami:?}");
    assert!(whoami.stdout.contains("caller=local"), "{whoami:?}");
    assert!(
        whoami.stdout.contains("admin"),
        "every declared scope: {whoami:?}"
    );
}
