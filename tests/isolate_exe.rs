//! Which executable an isolated plugin's child runs (issue 13: an idle isolated plugin costs
//! at most 4 MiB RSS, which only the small `fastmcp-plugin-host` meets): that one when it sits
//! beside `fastmcp` and is from the same build, else `fastmcp __plugin-host`, and the plugin is
//! served either way.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::util::children_of;
use crate::util::{self, Server, plugins, text_of, tool_call};

/// The executable of the server's one child, after a call it answered.
fn child_exe_after_a_call(server: &Server) -> PathBuf {
    let reply = server.call(&tool_call(1, "echo", json!({"text": "hi"})), None);
    assert_eq!(text_of(&reply), "hi", "{reply}");
    let kids = children_of(server.child.id());
    assert_eq!(kids.len(), 1, "one child: {kids:?}");
    std::fs::read_link(format!("/proc/{}/exe", kids[0])).expect("the child's /proc/PID/exe")
}

fn serve_isolated(fastmcp: &Path) -> Server {
    let plugin = plugins().test_plugin.to_str().unwrap();
    let mut cmd = std::process::Command::new(fastmcp);
    cmd.args([
        "dev",
        plugin,
        "--watch=false",
        "--stateless",
        "true",
        "--isolate",
        "true",
    ])
    .args(["--port", "0"]);
    util::json_logs(&mut cmd);
    let server = util::spawn_command(cmd);
    server.wait_ready();
    server
}

#[test]
fn an_isolated_plugin_runs_in_the_small_plugin_host() {
    let server = serve_isolated(Path::new(util::bin()));
    let exe = child_exe_after_a_call(&server);
    let expected = std::fs::canonicalize(env!("CARGO_BIN_EXE_fastmcp-plugin-host")).unwrap();
    assert_eq!(exe, expected);
}

/// A `fastmcp` alone (copied without its plugin host), or beside a `fastmcp-plugin-host` of
/// another build (left by an earlier `cargo build` when `cargo run` rebuilt only `fastmcp`),
/// runs its children as `fastmcp __plugin-host`; the other build's one says why it is unused.
#[test]
fn without_a_plugin_host_of_its_build_the_child_is_fastmcp_itself() {
    let dir = tempfile::tempdir_in(util::target_dir()).unwrap();
    let alone = dir.path().join("fastmcp");
    if std::fs::hard_link(util::bin(), &alone).is_err() {
        std::fs::copy(util::bin(), &alone).unwrap();
    }
    let server = serve_isolated(&alone);
    assert_eq!(child_exe_after_a_call(&server), alone);
    drop(server);

    let other = dir.path().join("fastmcp-plugin-host");
    std::fs::write(&other, "#!/bin/sh\necho 0.0.0+0000000000000000\n").unwrap();
    let mut perms = std::fs::metadata(&other).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&other, perms).unwrap();
    let server = serve_isolated(&alone);
    assert_eq!(child_exe_after_a_call(&server), alone);
    let log = server.log_text();
    assert!(log.contains("is from another build"), "{log}");
}
