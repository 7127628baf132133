//! Tests of [`Config::resolve`] and the other resolvers: precedence, fallbacks and the error
//! a user sees for each bad value.

use super::*;
use crate::cli::{Cli, Command};
use clap::Parser;

fn dev_args(argv: &[&str]) -> cli::DevArgs {
    let argv = ["fastmcp", "dev"].iter().chain(argv);
    match Cli::try_parse_from(argv).expect("argv parses").command {
        Command::Dev(args) => args,
        other => panic!("expected dev, got {other:?}"),
    }
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `fastmcp dev ARGV` with the environment `vars`, resolved (the settings' own tests use it).
pub(super) fn resolve(argv: &[&str], vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::resolve(dev_args(argv), env(vars))
}

fn lib(path: &str) -> PluginSource {
    PluginSource::Library(path.into())
}

#[test]
fn defaults() {
    let config = resolve(&["x.so"], &[("HOME", "/root")]).unwrap();
    let expected = Config {
        plugins: vec![lib("x.so")],
        ..Config::default()
    };
    assert_eq!(config, expected);
    assert_eq!(config.max_body_bytes, 4_194_304);
    assert_eq!(config.session_idle_timeout, Duration::from_secs(1800));
    assert_eq!(config.max_blocking_calls, 64);
}

#[test]
fn env_beats_defaults_and_every_flag_beats_its_env_var() {
    let vars = [
        ("FASTMCP_TRANSPORT", "stdio"),
        ("FASTMCP_HOST", "0.0.0.0"),
        ("FASTMCP_PORT", "9000"),
        ("FASTMCP_ENDPOINT", "/env"),
        ("FASTMCP_STATELESS", "on"),
        ("FASTMCP_ALLOWED_HOSTS", "Env.Example"),
        ("FASTMCP_ALLOWED_ORIGINS", "https://Env.Example/"),
        ("FASTMCP_TOOL_TIMEOUT", "5"),
        ("FASTMCP_MAX_BLOCKING_CALLS", "4096"),
        ("FASTMCP_MAX_BODY_BYTES", "1MB"),
        ("FASTMCP_SESSION_IDLE_TIMEOUT", "1h"),
        ("FASTMCP_SHUTDOWN_TIMEOUT", "0"),
        ("FASTMCP_LOG_FORMAT", "json"),
        ("FASTMCP_LOG", "debug"),
        ("RUST_LOG", "trace"),
        ("FASTMCP_WATCH", "no"),
        ("FASTMCP_INLINE_TOOLS", "false"),
        ("FASTMCP_PROFILE", "debug"),
        ("FASTMCP_STATE_SECRET", "0123456789abcdef0123456789abcdef"),
    ];
    let from_env = resolve(&["x.so"], &vars).unwrap();
    let expected_env = Config {
        plugins: vec![lib("x.so")],
        profile: "dev".into(),
        transport: Transport::Stdio,
        host: "0.0.0.0".into(),
        port: 9000,
        endpoint: "/env".into(),
        stateless: true,
        allowed_hosts: vec!["env.example".into()],
        allowed_origins: vec!["https://env.example".into()],
        tool_timeout: Duration::from_secs(5),
        max_blocking_calls: 4096,
        max_body_bytes: 1_000_000,
        session_idle_timeout: Duration::from_secs(3600),
        shutdown_timeout: Duration::ZERO,
        limits: Limits::default(),
        tasks: crate::config::TaskLimits::default(),
        log_format: LogFormat::Json,
        log_filter: "debug".into(),
        watch: false,
        inline_tools: false,
        isolate: Isolation::None,
        isolate_crash_loop: CrashLoop::default(),
        state_secret: Some(Secret("0123456789abcdef0123456789abcdef".into())),
        session_store: None,
        auth: AuthConfig::default(),
        metrics: false,
        metrics_auth: true,
        sandbox: SandboxSettings::default(),
    };
    assert_eq!(from_env, expected_env);

    let flags = [
        "--transport=http-stream",
        "--host=::1",
        "--port=0",
        "--endpoint=/flag",
        "--stateless=false",
        "--allowed-hosts=*",
        "--allowed-origins=http://localhost:3000",
        "--tool-timeout=500ms",
        "--max-blocking-calls= 1 ",
        "--max-body-bytes=512KiB",
        "--session-idle-timeout=2m",
        "--shutdown-timeout=3s",
        "--log-format=pretty",
        "--watch=true",
        "--inline-tools",
        "--profile=bench",
        "x.so",
    ];
    let from_flags = resolve(&flags, &vars).unwrap();
    let expected_flags = Config {
        profile: "bench".into(),
        transport: Transport::HttpStream,
        host: "::1".into(),
        port: 0,
        endpoint: "/flag".into(),
        stateless: false,
        allowed_hosts: vec!["*".into()],
        allowed_origins: vec!["http://localhost:3000".into()],
        tool_timeout: Duration::from_millis(500),
        max_blocking_calls: 1,
        max_body_bytes: 512 * 1024,
        session_idle_timeout: Duration::from_secs(120),
        shutdown_timeout: Duration::from_secs(3),
        log_format: LogFormat::Pretty,
        watch: true,
        inline_tools: true,
        isolate: Isolation::None,
        isolate_crash_loop: CrashLoop::default(),
        ..expected_env
    };
    assert_eq!(from_flags, expected_flags);
}

#[test]
fn port_and_log_filter_fallbacks() {
    let port = |vars: &[(&str, &str)]| resolve(&["x.so"], vars).unwrap().port;
    assert_eq!(port(&[("FASTMCP_PORT", "9000"), ("PORT", "7000")]), 9000);
    assert_eq!(port(&[("PORT", "7000")]), 7000);
    assert_eq!(
        port(&[("FASTMCP_PORT", ""), ("PORT", "7000")]),
        7000,
        "empty = unset"
    );
    let filter = |vars: &[(&str, &str)]| resolve(&["x.so"], vars).unwrap().log_filter;
    assert_eq!(
        filter(&[("RUST_LOG", "warn,fastmcp=debug")]),
        "warn,fastmcp=debug"
    );
    assert_eq!(
        filter(&[("FASTMCP_LOG", "error"), ("RUST_LOG", "warn")]),
        "error"
    );
}

#[test]
fn bare_bool_flags_mean_true() {
    assert!(
        resolve(&["a.so", "b.so", "--stateless"], &[])
            .unwrap()
            .stateless
    );
    let config = resolve(&["--stateless", "true", "x.so"], &[]).unwrap();
    assert!(config.stateless);
    assert_eq!(config.plugins, [lib("x.so")]);
    assert!(
        !resolve(&["--stateless", "false", "x.so"], &[])
            .unwrap()
            .stateless
    );
    let vars = [("FASTMCP_WATCH", "false")];
    assert!(resolve(&["x.so", "--watch"], &vars).unwrap().watch);
    for (word, value) in [("TRUE", true), ("1", true), ("Yes", true), ("off", false)] {
        assert_eq!(parse_bool(word), Ok(value), "{word}");
    }
}

#[test]
fn a_bare_flag_before_a_plugin_explains_itself() {
    let err = resolve(&["--watch", "x.so"], &[]).unwrap_err().to_string();
    assert!(err.starts_with(r#"invalid value "x.so" for --watch: expected true or false"#));
    assert!(err.contains("write --watch=true before a PLUGIN"), "{err}");
    let err = resolve(&["--port", "1"], &[]).unwrap_err();
    assert!(matches!(err, ConfigError::NoPlugins), "{err}");
}

#[test]
fn every_bad_value_names_its_source_and_value() {
    let cases = [
        (
            "transport",
            "http",
            "expected http-stream (or httpStream) or stdio",
        ),
        ("host", "localhost:80", "without a port"),
        ("host", "http://x", "expected a host name or IP address"),
        ("port", "abc", "not a port number (0-65535)"),
        ("port", "65536", "not a port number (0-65535)"),
        ("endpoint", "mcp", "must start with `/`"),
        ("endpoint", "/ready", "reserved for the health routes"),
        ("endpoint", "/health", "reserved"),
        ("endpoint", "/metrics/", "reserved"),
        ("endpoint", "/mcp?x", "plain path"),
        (
            "stateless",
            "maybe",
            "expected true or false (also 1/0, yes/no, on/off)",
        ),
        ("watch", "2", "expected true or false"),
        (
            "allowed_hosts",
            "a.com,http://b.com",
            r#"host names like example.com, or *; "http://b.com""#,
        ),
        (
            "allowed_origins",
            "localhost:3000",
            "origins like http://localhost:3000",
        ),
        ("allowed_origins", "http://a.com/path", "no path"),
        ("tool_timeout", "0", "must be greater than 0"),
        ("tool_timeout", "10x", "expected a duration like 30s"),
        (
            "max_blocking_calls",
            "0",
            "expected a whole number of calls from 1 to 4096",
        ),
        ("max_blocking_calls", "4097", "from 1 to 4096"),
        ("max_blocking_calls", "abc", "from 1 to 4096"),
        ("max_blocking_calls", "-1", "from 1 to 4096"),
        ("max_body_bytes", "0", "must be greater than 0"),
        ("max_body_bytes", "4 lots", "expected a size like 4MiB"),
        ("max_body_bytes", "99999999999GiB", "too large"),
        ("session_idle_timeout", "0s", "must be greater than 0"),
        ("shutdown_timeout", "-1", "expected a duration"),
        ("log_format", "xml", "expected pretty or json"),
        ("profile", "my profile", "expected a cargo profile name"),
    ];
    for (field, bad, reason) in cases {
        let (flag, var) = flag_and_var(field);
        let want = |name: &str| format!("invalid value {bad:?} for {name}: ");
        let err = resolve(&[&format!("{flag}={bad}"), "x.so"], &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&want(&flag)) && err.contains(reason),
            "{flag}: {err}"
        );
        let err = resolve(&["x.so"], &[(&var, bad)]).unwrap_err().to_string();
        assert!(
            err.starts_with(&want(&var)) && err.contains(reason),
            "{var}: {err}"
        );
    }
    let err = resolve(&["x.so"], &[("PORT", "http")])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        r#"invalid value "http" for PORT: not a port number (0-65535)"#
    );
    let err = resolve(&["x.so"], &[("RUST_LOG", "foo=loud")])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(r#"invalid value "foo=loud" for RUST_LOG: not a log filter"#));
}

#[test]
fn log_filters_are_levels_and_target_directives() {
    let filter = |value: &str| resolve(&["x.so"], &[("FASTMCP_LOG", value)]);
    for ok in [
        "info",
        "INFO",
        "info,fastmcp=debug",
        "warn,fastmcp::calls=debug",
        "off",
        "info,notify=warn",
    ] {
        assert!(filter(ok).is_ok(), "{ok}");
    }
    // `Targets` alone takes each of these as a target name and turns all other logging off.
    for (bad, named) in [
        ("verbose", "\"verbose\" is neither a level"),
        ("debg", "\"debg\" is neither a level"),
        ("info;debug", "\"info;debug\" is neither a level"),
        ("info,loud", "\"loud\" is neither a level"),
        ("info,fastmcp=loud", "\"fastmcp=loud\" is neither a level"),
        ("info,fastmcp=", "\"fastmcp=\" is neither a level"),
        ("=debug", "\"\" is not a target"),
        ("info,fast mcp=debug", "\"fast mcp\" is not a target"),
        ("fastmcp[span]=debug", "\"fastmcp[span]\" is not a target"),
    ] {
        let err = filter(bad).unwrap_err().to_string();
        let want = format!("invalid value {bad:?} for FASTMCP_LOG: not a log filter");
        assert!(err.starts_with(&want), "{err}");
        assert!(err.contains(named), "{err}");
    }
}

#[test]
fn transports() {
    for (word, transport) in [
        ("http-stream", Transport::HttpStream),
        ("httpStream", Transport::HttpStream),
        ("stdio", Transport::Stdio),
    ] {
        assert_eq!(parse_transport(word), Ok(transport), "{word}");
        assert_eq!(
            resolve(&["--transport", word, "x"], &[]).unwrap().transport,
            transport
        );
    }
}

#[test]
fn plugin_sources_are_classified() {
    let dir = tempfile::tempdir().unwrap();
    let krate = dir.path().join("calc");
    std::fs::create_dir(&krate).unwrap();
    let manifest = krate.join("Cargo.toml");
    assert_eq!(
        PluginSource::from_arg(&krate),
        PluginSource::Crate {
            manifest_path: manifest.clone()
        }
    );
    assert_eq!(
        PluginSource::from_arg(&manifest),
        PluginSource::Crate {
            manifest_path: manifest.clone()
        }
    );
    let so = dir.path().join("libcalc.so");
    assert_eq!(
        PluginSource::from_arg(&so),
        PluginSource::Library(so.clone())
    );
    let krate = krate.to_str().unwrap();
    let config = resolve(&["a.so", krate], &[]).unwrap();
    assert_eq!(
        config.plugins,
        [
            lib("a.so"),
            PluginSource::Crate {
                manifest_path: manifest
            }
        ]
    );
}

#[test]
fn profile_and_tool_args() {
    assert_eq!(resolve_profile(None, env(&[])).unwrap(), "release");
    assert_eq!(
        resolve_profile(None, env(&[("FASTMCP_PROFILE", "debug")])).unwrap(),
        "dev"
    );
    let vars = env(&[("FASTMCP_PROFILE", "x y")]);
    assert_eq!(
        resolve_profile(Some("dev".into()), vars.clone()).unwrap(),
        "dev"
    );
    assert!(
        resolve_profile(None, vars)
            .unwrap_err()
            .to_string()
            .contains("FASTMCP_PROFILE")
    );
    assert_eq!(parse_tool_args(r#"{"a": 1}"#).unwrap()["a"], 1);
    let err = parse_tool_args("[1]").unwrap_err().to_string();
    assert!(err.starts_with(r#"invalid value "[1]" for --args: expected a JSON object"#));
    assert!(
        parse_tool_args("{")
            .unwrap_err()
            .to_string()
            .contains("not valid JSON")
    );
}

#[test]
fn secrets_are_checked_and_never_shown() {
    let err = resolve(&["x.so", "--state-secret=short"], &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--state-secret") && err.contains("32 bytes"),
        "{err}"
    );
    assert!(!err.contains("short"), "the value leaked: {err}");
    let c = resolve(&["x.so"], &[("FASTMCP_STATE_SECRET", &"k".repeat(40))]).unwrap();
    assert_eq!(c.state_secret.as_ref().unwrap().expose(), "k".repeat(40));
    assert!(!format!("{c:?}").contains("kkkk"));
}

#[test]
fn session_store_urls() {
    assert!(resolve(&["x.so"], &[]).unwrap().session_store.is_none());
    assert!(
        resolve(&["x.so", "--session-store=memory"], &[])
            .unwrap()
            .session_store
            .is_none()
    );
    let c = resolve(
        &["x.so"],
        &[("FASTMCP_SESSION_STORE", "redis://127.0.0.1:6379/0")],
    )
    .unwrap();
    assert_eq!(
        c.session_store.unwrap().expose(),
        "redis://127.0.0.1:6379/0"
    );
    let err = resolve(&["x.so", "--session-store=postgres://u:pw@h/db"], &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--session-store") && !err.contains("pw"),
        "{err}"
    );
}

#[test]
fn oauth_settings_come_from_flags_or_their_variables() {
    let vars = [
        ("FASTMCP_OAUTH_ISSUER", "https://env-idp.example/"),
        ("FASTMCP_PUBLIC_URL", "https://env.example"),
        ("FASTMCP_JWKS_URL", "https://env-idp.example/keys"),
    ];
    let c = resolve(&["x.so", "--endpoint", "/rpc"], &vars).unwrap();
    let o = c.auth.oauth().expect("OAuth on from the variables");
    assert_eq!(o.issuer(), "https://env-idp.example/");
    assert_eq!(
        o.resource(),
        "https://env.example/rpc",
        "the endpoint is appended"
    );
    let c = resolve(
        &[
            "x.so",
            "--oauth-issuer",
            "https://flag-idp.example",
            "--public-url",
            "https://flag.example",
            "--oauth-audience",
            "api://flag",
        ],
        &vars,
    )
    .unwrap();
    let o = c.auth.oauth().unwrap();
    assert_eq!(o.issuer(), "https://flag-idp.example");
    assert_eq!(o.resource(), "https://flag.example/mcp");
    assert_eq!(o.audience(), "api://flag");
    let err = resolve(
        &["x.so"],
        &[("FASTMCP_OAUTH_ISSUER", "https://idp.example")],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("needs --public-url"), "{err}");
}
