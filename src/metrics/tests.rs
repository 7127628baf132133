//! Unit tests of `metrics`.

use super::*;

#[test]
fn encodes_the_expected_series() {
    let m = Metrics::new();
    m.record_request("tools/call", 200);
    m.record_request("tools/call", 200);
    m.record_request("initialize", 200);
    m.record_request("made/up/method", 400);
    m.record_request("", 401);
    m.record_tool_call("calculate", "ok", Duration::from_micros(300));
    m.record_tool_call("calculate", "timeout", Duration::from_secs(61));
    m.record_tool_call("calculate", "weird", Duration::from_millis(2));
    m.set_sessions(3);
    m.set_generation("calculator", 4);
    m.record_reload("calculator", true);
    m.record_reload("calculator", false);
    m.record_reload("calculator", false);
    let text = m.encode();
    for line in [
        "# TYPE fastmcp_requests counter",
        r#"fastmcp_requests_total{method="tools/call",status="200"} 2"#,
        r#"fastmcp_requests_total{method="initialize",status="200"} 1"#,
        r#"fastmcp_requests_total{method="other",status="400"} 1"#,
        r#"fastmcp_requests_total{method="other",status="401"} 1"#,
        r#"fastmcp_tool_calls_total{tool="calculate",outcome="ok"} 1"#,
        r#"fastmcp_tool_calls_total{tool="calculate",outcome="timeout"} 1"#,
        r#"fastmcp_tool_calls_total{tool="calculate",outcome="error"} 1"#,
        "# TYPE fastmcp_tool_call_duration_seconds histogram",
        "# UNIT fastmcp_tool_call_duration_seconds seconds",
        r#"fastmcp_tool_call_duration_seconds_count{tool="calculate"} 3"#,
        r#"fastmcp_tool_call_duration_seconds_bucket{le="0.0001",tool="calculate"} 0"#,
        r#"fastmcp_tool_call_duration_seconds_bucket{le="0.0005",tool="calculate"} 1"#,
        r#"fastmcp_tool_call_duration_seconds_bucket{le="60.0",tool="calculate"} 2"#,
        r#"fastmcp_tool_call_duration_seconds_bucket{le="+Inf",tool="calculate"} 3"#,
        "fastmcp_sessions_active 3",
        r#"fastmcp_plugin_generation{plugin="calculator"} 4"#,
        r#"fastmcp_plugin_reloads_total{plugin="calculator",result="ok"} 1"#,
        r#"fastmcp_plugin_reloads_total{plugin="calculator",result="failed"} 2"#,
        &format!(
            r#"fastmcp_build_info{{version="{}"}} 1"#,
            env!("CARGO_PKG_VERSION")
        ),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(!text.contains("made/up"), "{text}");
}

#[test]
fn blocking_queue_waits_and_calls() {
    let m = Metrics::new();
    let record = m.queue_wait_recorder("slow");
    record(Duration::from_micros(50));
    record(Duration::from_secs(2));
    let busy = BlockingCalls {
        running: 2,
        queued: 5,
        stuck: 2,
    };
    m.set_blocking_calls([("slow", busy)]);
    let text = m.encode();
    for line in [
        "# TYPE fastmcp_blocking_queue_wait_seconds histogram",
        r#"fastmcp_blocking_queue_wait_seconds_count{plugin="slow"} 2"#,
        r#"fastmcp_blocking_queue_wait_seconds_bucket{le="0.0001",plugin="slow"} 1"#,
        r#"fastmcp_blocking_queue_wait_seconds_bucket{le="1.0",plugin="slow"} 1"#,
        r#"fastmcp_blocking_calls{plugin="slow",state="running"} 2"#,
        r#"fastmcp_blocking_calls{plugin="slow",state="queued"} 5"#,
        r#"fastmcp_blocking_calls{plugin="slow",state="stuck"} 2"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
    m.set_blocking_calls([]);
    assert!(!m.encode().contains("fastmcp_blocking_calls{"));
}

#[test]
fn labels_are_bounded() {
    assert_eq!(method_label("tools/call"), "tools/call");
    assert_eq!(method_label("x".repeat(1000).as_str()), "other");
    assert_eq!(outcome_label("panic"), "panic");
    assert_eq!(outcome_label("anything"), "error");
}

#[test]
fn the_scrape_hook_refreshes_gauges() {
    let m = Metrics::new();
    m.set_generation("renamed-away", 1);
    assert!(m.on_scrape(|m| {
        m.set_sessions(7);
        m.set_generations([("calculator", 2), ("protected", 5)]);
    }));
    assert!(!m.on_scrape(|_| {}));
    let text = m.encode();
    assert!(text.contains("fastmcp_sessions_active 7\n"), "{text}");
    assert!(text.contains(r#"fastmcp_plugin_generation{plugin="protected"} 5"#));
    assert!(!text.contains("renamed-away"), "{text}");
}

#[tokio::test]
async fn render_uses_the_openmetrics_content_type() {
    let m = Metrics::new();
    m.set_sessions(1);
    let response = render(&m);
    assert_eq!(response.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(body.contains("fastmcp_sessions_active 1"), "{body}");
}
