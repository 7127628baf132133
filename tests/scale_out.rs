//! Scale-out behind a real load balancer: three stateless `fastmcp` instances behind nginx
//! (round robin, HTTP/1.1 keep-alive to the upstreams, no buffering, as a production config
//! would have it). Every request must succeed whichever instance serves it, and every instance
//! must serve some.
//!
//! nginx comes from the system (`/usr/sbin/nginx` or `nginx` on `PATH`); `scripts/test.sh`
//! installs it and sets `FASTMCP_TEST_REQUIRE_INFRA=1`, which turns "not installed" from a
//! notice into a failure.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::util::{self, Server, eventually, plugins, text_of, tool_call};

const REQUESTS: i64 = 300;

/// The nginx binary, or `None` (with a notice) when it is missing and not required.
fn nginx() -> Option<PathBuf> {
    let system = PathBuf::from("/usr/sbin/nginx");
    let found = if system.is_file() {
        Some(system)
    } else {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("nginx"))
                .find(|p| p.is_file())
        })
    };
    if found.is_none() {
        assert_ne!(
            std::env::var("FASTMCP_TEST_REQUIRE_INFRA").as_deref(),
            Ok("1"),
            "nginx is not installed (FASTMCP_TEST_REQUIRE_INFRA=1); scripts/test.sh installs it"
        );
        eprintln!("notice: nginx is not installed; skipping the load-balancer test");
    }
    found
}

/// A running nginx, killed on drop.
struct Nginx {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nginx {
    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

/// The config: one process in the foreground, every file in `dir`, round robin over
/// `upstreams` with keep-alive connections.
fn config(dir: &Path, port: u16, upstreams: &[String]) -> String {
    let d = dir.display();
    let servers: String = upstreams
        .iter()
        .map(|u| format!("        server {u};\n"))
        .collect();
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 256;
}}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream fastmcp {{
{servers}        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://fastmcp;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # The client's Host, not the upstream group's name: fastmcp checks it.
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_read_timeout 60s;
        }}
    }}
}}
"#
    )
}

fn start_nginx(binary: &Path, upstreams: &[String]) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let port = util::free_port();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, config(dir.path(), port, upstreams)).unwrap();
    let child = Command::new(binary)
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&conf)
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let mut nginx = Nginx { child, dir, port };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let up = eventually(Duration::from_secs(20), || {
        if let Ok(Some(status)) = nginx.child.try_wait() {
            panic!("nginx exited ({status}):\n{}", nginx.error_log());
        }
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    });
    assert!(up, "nginx never listened:\n{}", nginx.error_log());
    nginx
}

#[test]
fn three_stateless_instances_behind_nginx_serve_every_request() {
    let Some(binary) = nginx() else { return };
    let instances: Vec<Server> = (0..3)
        .map(|_| util::serve(&plugins().calculator, &["--stateless"]))
        .collect();
    let upstreams: Vec<String> = instances
        .iter()
        .map(|s| s.base.trim_start_matches("http://").to_string())
        .collect();
    let lb = start_nginx(&binary, &upstreams);

    let client = util::client();
    let url = format!("http://127.0.0.1:{}/mcp", lb.port);
    let mut errors = Vec::new();
    for i in 0..REQUESTS {
        let body = tool_call(i, "calculate", json!({"operation": "add", "a": i, "b": 1}));
        let outcome =
            util::try_post_mcp(&client, &url, &body).and_then(|r| match r.status().as_u16() {
                200 => Ok(util::rpc_response(r)),
                s => Err(format!("HTTP {s}: {}", r.text().unwrap_or_default())),
            });
        match outcome {
            Ok(v) if v["id"] == i && text_of(&v) == format!("Result: {}", i + 1) => {}
            Ok(v) => errors.push(format!("request {i}: {v}")),
            Err(e) => errors.push(format!("request {i}: {e}")),
        }
    }
    assert!(
        errors.is_empty(),
        "{} of {REQUESTS} failed, e.g. {:?}; nginx:\n{}",
        errors.len(),
        &errors[..errors.len().min(5)],
        lb.error_log()
    );

    // Each instance logs a `tool call` line per call it served.
    let served = || -> Vec<usize> {
        instances
            .iter()
            .map(|s| s.log_events("tool call").len())
            .collect()
    };
    let all_logged = eventually(Duration::from_secs(10), || {
        served().iter().sum::<usize>() == REQUESTS as usize
    });
    let counts = served();
    assert!(all_logged, "calls logged per instance: {counts:?}");
    assert!(
        counts.iter().all(|n| *n > 0),
        "an instance served nothing: {counts:?}"
    );
}
