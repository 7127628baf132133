//! Unit tests of [`super`]: cli.

use super::*;
use clap::CommandFactory;
use std::path::Path;

fn parse(argv: &[&str]) -> Command {
    Cli::try_parse_from(argv).expect("argv parses").command
}

fn dev(argv: &[&str]) -> DevArgs {
    match parse(argv) {
        Command::Dev(args) => args,
        other => panic!("expected dev, got {other:?}"),
    }
}

#[test]
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn dev_with_plugins_then_bare_flag() {
    let args = dev(&["fastmcp", "dev", "a.so", "b.so", "--stateless"]);
    assert_eq!(args.plugins, [PathBuf::from("a.so"), PathBuf::from("b.so")]);
    assert_eq!(args.stateless.as_deref(), Some("true"));
    assert_eq!(args.watch, None);
}

#[test]
fn dev_flag_with_value_before_plugin() {
    let args = dev(&["fastmcp", "dev", "--stateless", "true", "x.so"]);
    assert_eq!(args.plugins, [PathBuf::from("x.so")]);
    assert_eq!(args.stateless.as_deref(), Some("true"));
    let args = dev(&["fastmcp", "dev", "--watch=false", "--port", "0", "x.so"]);
    assert_eq!(args.watch.as_deref(), Some("false"));
    assert_eq!(args.port.as_deref(), Some("0"));
}

#[test]
fn dev_options_are_raw_strings() {
    let args = dev(&[
        "fastmcp",
        "dev",
        "--transport",
        "stdio",
        "--port",
        "abc",
        "--tool-timeout",
        "0",
        "--allowed-hosts",
        "a,b",
        "--profile",
        "debug",
        "crate/",
    ]);
    assert_eq!(args.transport.as_deref(), Some("stdio"));
    assert_eq!(args.port.as_deref(), Some("abc"));
    assert_eq!(args.tool_timeout.as_deref(), Some("0"));
    assert_eq!(args.allowed_hosts.as_deref(), Some("a,b"));
    assert_eq!(args.profile.as_deref(), Some("debug"));
}

#[test]
fn inspect_call_probe() {
    match parse(&["fastmcp", "inspect", "--json", "p.so"]) {
        Command::Inspect(a) => assert!(a.json && a.plugin == Path::new("p.so")),
        other => panic!("{other:?}"),
    }
    match parse(&["fastmcp", "call", "p.so", "add"]) {
        Command::Call(a) => assert_eq!((a.tool.as_str(), a.args.as_str()), ("add", "{}")),
        other => panic!("{other:?}"),
    }
    match parse(&[
        "fastmcp",
        "call",
        "--profile",
        "dev",
        "p",
        "add",
        "--args",
        r#"{"a":1}"#,
    ]) {
        Command::Call(a) => {
            assert_eq!(a.args, r#"{"a":1}"#);
            assert_eq!(a.profile.as_deref(), Some("dev"));
        }
        other => panic!("{other:?}"),
    }
    match parse(&["fastmcp", "probe", "--timeout", "2s"]) {
        Command::Probe(a) => assert_eq!((a.url, a.timeout.as_deref()), (None, Some("2s"))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn call_needs_a_tool_and_help_lists_env() {
    assert!(Cli::try_parse_from(["fastmcp", "call", "p.so"]).is_err());
    let help = Cli::command().render_long_help().to_string();
    assert!(help.contains("FASTMCP_PORT, PORT"), "{help}");
    let mut cmd = Cli::command();
    let dev_help = cmd
        .find_subcommand_mut("dev")
        .unwrap()
        .render_help()
        .to_string();
    assert!(
        dev_help.contains("[env: FASTMCP_PORT, PORT] [default: 8080]"),
        "{dev_help}"
    );
    assert!(dev_help.contains("<PLUGIN>..."), "{dev_help}");
}
