//! `GET /metrics` against the real binary: the OpenMetrics content type and the series an
//! operator graphs (requests by method and status, tool calls by tool and outcome, latency
//! buckets, live sessions, plugin generations and reloads) after real traffic; who may read it
//! (`--metrics-auth`); and 404 when `--metrics` is off.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::util::metrics::scrape;
use crate::util::{self, Server, eventually, plugins, replace_atomically, rpc, tool_call};

const KEY: &str = "metrics-test-key-42";

fn value(samples: &HashMap<String, f64>, series: &str, text: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
}

#[test]
fn metrics_count_requests_tool_calls_sessions_and_generations() {
    let p = plugins();
    let server = util::start(
        &[
            p.calculator.to_str().unwrap(),
            p.test_plugin.to_str().unwrap(),
            "--watch=false",
            "--metrics",
            "true",
        ],
        &[],
    );
    let session = server.initialize();
    let s = Some(session.as_str());
    server.call(&rpc(1, "tools/list", json!({})), s);
    for (id, (a, b)) in [(2, (2, 3)), (3, (4, 5))] {
        let r = server.call(
            &tool_call(id, "calculate", json!({"operation": "add", "a": a, "b": b})),
            s,
        );
        assert_ne!(r["result"]["isError"], true, "{r}");
    }
    let r = server.call(&tool_call(4, "fail", json!({"message": "no"})), s);
    assert_eq!(r["result"]["isError"], true, "{r}");
    let r = server.call(&tool_call(5, "panic", json!({"message": "boom"})), s);
    assert_eq!(r["result"]["isError"], true, "{r}");
    let r = server.call(&rpc(6, "no/such/method", json!({})), s);
    assert_eq!(r["error"]["code"], -32601, "{r}");
    // Without the session: a 400, counted under its method.
    assert_eq!(
        server.post(&rpc(7, "tools/list", json!({})), None).status(),
        400
    );

    let (m, text) = scrape(&server, &[]);
    for (series, want) in [
        (
            r#"fastmcp_requests_total{method="initialize",status="200"}"#,
            1.0,
        ),
        (
            r#"fastmcp_requests_total{method="notifications/initialized",status="202"}"#,
            1.0,
        ),
        (
            r#"fastmcp_requests_total{method="tools/list",status="200"}"#,
            1.0,
        ),
        (
            r#"fastmcp_requests_total{method="tools/list",status="400"}"#,
            1.0,
        ),
        (
            r#"fastmcp_requests_total{method="tools/call",status="200"}"#,
            4.0,
        ),
        (
            r#"fastmcp_requests_total{method="other",status="200"}"#,
            1.0,
        ),
        (
            r#"fastmcp_tool_calls_total{tool="calculate",outcome="ok"}"#,
            2.0,
        ),
        (
            r#"fastmcp_tool_calls_total{tool="panic",outcome="panic"}"#,
            1.0,
        ),
        (
            r#"fastmcp_tool_call_duration_seconds_count{tool="calculate"}"#,
            2.0,
        ),
        (
            r#"fastmcp_tool_call_duration_seconds_bucket{le="+Inf",tool="calculate"}"#,
            2.0,
        ),
        (
            r#"fastmcp_tool_call_duration_seconds_bucket{le="60.0",tool="calculate"}"#,
            2.0,
        ),
        (
            r#"fastmcp_tool_call_duration_seconds_count{tool="fail"}"#,
            1.0,
        ),
        ("fastmcp_sessions_active", 1.0),
        (r#"fastmcp_plugin_generation{plugin="calculator"}"#, 1.0),
        (r#"fastmcp_plugin_generation{plugin="test-plugin"}"#, 1.0),
        (
            &format!(
                r#"fastmcp_build_info{{version="{}"}}"#,
                env!("CARGO_PKG_VERSION")
            ),
            1.0,
        ),
    ] {
        assert_eq!(value(&m, series, &text), want, "{series} in:\n{text}");
    }
    for line in [
        "# TYPE fastmcp_requests counter",
        "# TYPE fastmcp_tool_calls counter",
        "# TYPE fastmcp_tool_call_duration_seconds histogram",
        "# UNIT fastmcp_tool_call_duration_seconds seconds",
        "# TYPE fastmcp_sessions_active gauge",
        "# TYPE fastmcp_plugin_generation gauge",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
    // The failed call is counted once (under which outcome: see the ignored test below).
    let fail: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with(r#"fastmcp_tool_calls_total{tool="fail","#))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(fail, 1.0, "{text}");
    // Every bucket of the calculator's histogram, cumulative.
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| {
            l.starts_with("fastmcp_tool_call_duration_seconds_bucket{")
                && l.contains(r#"tool="calculate""#)
        })
        .map(|l| l.rsplit_once(' ').unwrap().1.parse().unwrap())
        .collect();
    assert_eq!(buckets.len(), 19, "18 bounds and +Inf:\n{text}");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    // An invented method is not a label.
    assert!(!text.contains("no/such/method"), "{text}");

    // Ending the session shows in the gauge.
    let delete = server.delete_session(&session, &[]);
    assert!(delete.status().is_success(), "{}", delete.status());
    let (m, text) = scrape(&server, &[]);
    assert_eq!(value(&m, "fastmcp_sessions_active", &text), 0.0);
}

#[test]
fn a_tool_error_result_counts_as_an_error() {
    let server = util::serve(&plugins().test_plugin, &["--stateless", "--metrics"]);
    let r = server.call(&tool_call(1, "fail", json!({"message": "no"})), None);
    assert_eq!(r["result"]["isError"], true, "{r}");
    let (m, text) = scrape(&server, &[]);
    let series = r#"fastmcp_tool_calls_total{tool="fail",outcome="error"}"#;
    assert_eq!(value(&m, series, &text), 1.0);
}

#[test]
fn metrics_need_credentials_when_authentication_is_on_unless_told_otherwise() {
    let calc = plugins().calculator.to_str().unwrap();
    let server = util::start(
        &[calc, "--watch=false", "--stateless", "--metrics", "true"],
        &[("FASTMCP_API_KEY", KEY)],
    );
    let r = server.get_with("/metrics", &[]);
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    assert_eq!(
        server
            .get_with("/metrics", &[("x-api-key", "wrong")])
            .status(),
        401
    );
    // Refused MCP requests are counted too: a flood of bad credentials shows on the graph.
    let list = rpc(1, "tools/list", json!({}));
    for _ in 0..3 {
        assert_eq!(server.post(&list, None).status(), 401);
    }
    assert_eq!(
        server
            .post_with(&list, &[("x-api-key", KEY)], None)
            .status(),
        200
    );
    let (m, text) = scrape(&server, &[("x-api-key", KEY)]);
    let refused = r#"fastmcp_requests_total{method="other",status="401"}"#;
    assert_eq!(value(&m, refused, &text), 3.0, "{text}");
    let listed = r#"fastmcp_requests_total{method="tools/list",status="200"}"#;
    assert_eq!(value(&m, listed, &text), 1.0, "{text}");
    let bearer = format!("Bearer {KEY}");
    scrape(&server, &[("authorization", &bearer)]);

    let server = util::start(
        &[
            calc,
            "--watch=false",
            "--stateless",
            "--metrics",
            "--metrics-auth",
            "false",
        ],
        &[("FASTMCP_API_KEY", KEY)],
    );
    scrape(&server, &[]);
    // The MCP endpoint itself still needs the key.
    assert_eq!(server.post(&list, None).status(), 401);
}

#[test]
fn without_the_metrics_flag_there_is_no_metrics_route() {
    let server = util::serve(&plugins().calculator, &["--stateless"]);
    assert_eq!(server.get_with("/metrics", &[]).status(), 404);
    let server = util::serve(
        &plugins().calculator,
        &["--stateless", "--metrics", "false"],
    );
    assert_eq!(server.get_with("/metrics", &[]).status(), 404);
}

/// Waits (bounded) until `/metrics` counts one reload of the calculator with `result`.
fn wait_reload_counted(server: &Server, result: &str) {
    let series =
        format!(r#"fastmcp_plugin_reloads_total{{plugin="calculator",result="{result}"}}"#);
    assert!(
        eventually(Duration::from_secs(15), || scrape(server, &[])
            .0
            .get(&series)
            == Some(&1.0)),
        "no {result} reload counted; log:\n{}",
        server.log_text()
    );
}

/// The calculator's generation gauge, and the whole `/metrics` text.
fn calculator_generation(server: &Server) -> (f64, String) {
    let (m, text) = scrape(server, &[]);
    let series = r#"fastmcp_plugin_generation{plugin="calculator"}"#;
    (value(&m, series, &text), text)
}

#[test]
fn a_hot_reload_moves_the_reload_counter_and_the_generation_gauge() {
    let p = plugins();
    let dir = tempfile::tempdir().unwrap();
    let served: PathBuf = dir.path().join("libserved.so");
    std::fs::copy(&p.test_plugin, &served).unwrap();
    let server = util::start(&[served.to_str().unwrap(), "--stateless", "--metrics"], &[]);
    let (m, text) = scrape(&server, &[]);
    assert_eq!(
        value(
            &m,
            r#"fastmcp_plugin_generation{plugin="test-plugin"}"#,
            &text
        ),
        1.0
    );
    assert!(!text.contains("fastmcp_plugin_reloads_total{"), "{text}");

    // The served file becomes the calculator: generation 2 of the same slot.
    replace_atomically(&p.calculator, &served);
    wait_reload_counted(&server, "ok");
    let (generation, text) = calculator_generation(&server);
    assert_eq!(generation, 2.0);
    assert!(
        !text.contains(r#"plugin_generation{plugin="test-plugin"}"#),
        "{text}"
    );

    // A broken replacement is counted as failed; the calculator keeps serving.
    let broken = dir.path().join("broken.so");
    std::fs::write(&broken, b"not an ELF file").unwrap();
    replace_atomically(&broken, &served);
    wait_reload_counted(&server, "failed");
    assert_eq!(calculator_generation(&server).0, 2.0);
    let r = server.call(
        &tool_call(1, "calculate", json!({"operation": "add", "a": 1, "b": 1})),
        None,
    );
    assert_eq!(util::text_of(&r), "Result: 2");
}
