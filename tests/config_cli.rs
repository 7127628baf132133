//! Settings as a user gives them: flags beat `FASTMCP_*` variables, which beat `PORT`; bad
//! values stop the program with exit code 2 and a message naming the flag or variable and the
//! value; `--help` documents the variables.

use std::time::Duration;

use crate::util::{self, plugins};

const EXIT_WITHIN: Duration = Duration::from_secs(20);

fn calculator() -> &'static str {
    plugins().calculator.to_str().unwrap()
}

fn mode(server: &util::Server) -> String {
    util::ready(server).1["mode"].as_str().unwrap().to_string()
}

#[test]
fn port_comes_from_the_flag_then_fastmcp_port_then_port() {
    let plain = util::free_port();
    let server = util::start(
        &[calculator(), "--watch=false"],
        &[("PORT", &plain.to_string())],
    );
    assert_eq!(server.base, format!("http://127.0.0.1:{plain}"));
    drop(server);

    let (ours, theirs) = (util::free_port(), util::free_port());
    let server = util::start(
        &[calculator(), "--watch=false"],
        &[
            ("FASTMCP_PORT", &ours.to_string()),
            ("PORT", &theirs.to_string()),
        ],
    );
    assert_eq!(server.base, format!("http://127.0.0.1:{ours}"));
    drop(server);

    let flag = util::free_port();
    let server = util::start(
        &[calculator(), "--watch=false", "--port", &flag.to_string()],
        &[
            ("FASTMCP_PORT", &util::free_port().to_string()),
            ("PORT", &util::free_port().to_string()),
        ],
    );
    assert_eq!(server.base, format!("http://127.0.0.1:{flag}"));
    assert_eq!(util::ready(&server).0, 200);
}

#[test]
fn stateless_comes_from_the_environment_unless_the_flag_says_otherwise() {
    let server = util::start(
        &[calculator(), "--watch=false"],
        &[("FASTMCP_STATELESS", "true")],
    );
    assert_eq!(mode(&server), "stateless");
    drop(server);
    let server = util::start(
        &[calculator(), "--watch=false", "--stateless", "false"],
        &[("FASTMCP_STATELESS", "true")],
    );
    assert_eq!(mode(&server), "stateful");
}

/// Runs `fastmcp dev ARGS` expecting a usage error; returns stderr.
fn usage_error(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut full = vec!["dev", calculator()];
    full.extend_from_slice(args);
    let out = util::run_bin(&full, env, EXIT_WITHIN);
    assert_eq!(out.code, Some(2), "{args:?} {env:?}: {out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    out.stderr
}

/// Flags, environment, and what the error must name (the flag or variable, the value).
type Case = (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

#[test]
fn bad_values_exit_2_naming_the_flag_or_variable_and_the_value() {
    let cases: [Case; 5] = [
        (&["--port", "abc"], &[], "--port", "abc"),
        (
            &[],
            &[("FASTMCP_STATELESS", "maybe")],
            "FASTMCP_STATELESS",
            "maybe",
        ),
        (
            &["--transport", "carrier-pigeon"],
            &[],
            "--transport",
            "carrier-pigeon",
        ),
        (&["--tool-timeout", "0"], &[], "--tool-timeout", "\"0\""),
        (&[], &[("PORT", "99999")], "PORT", "99999"),
    ];
    for (args, env, name, value) in cases {
        let stderr = usage_error(args, env);
        assert!(stderr.contains(name), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(value), "{args:?} {env:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn dev_without_plugins_is_a_usage_error() {
    let out = util::run_bin(&["dev"], &[], EXIT_WITHIN);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("PLUGIN"), "{out:?}");
}

#[test]
fn help_documents_the_environment() {
    let out = util::run_bin(&["--help"], &[], EXIT_WITHIN);
    assert_eq!(out.code, Some(0), "{out:?}");
    for needle in [
        "FASTMCP_STATELESS",
        "FASTMCP_PORT",
        "PORT",
        "dev",
        "inspect",
    ] {
        assert!(
            out.stdout.contains(needle),
            "{needle} missing:\n{}",
            out.stdout
        );
    }
    let out = util::run_bin(&["dev", "--help"], &[], EXIT_WITHIN);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("--stateless"), "{}", out.stdout);
    assert!(out.stdout.contains("FASTMCP_STATELESS"), "{}", out.stdout);
}
