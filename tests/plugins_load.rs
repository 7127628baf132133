//! Plugins that cannot be served stop `fastmcp dev` at startup with exit code 1 and a message
//! naming the file and the reason, never a crash: a missing file, a text file, a library
//! without our entry point, a wrong ABI version, broken manifests, a truncated library, and
//! two plugins exporting the same tool. The odd libraries are compiled from source with rustc.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::util::{self, plugins};

/// A plugin table laid out as ABI v1 before `call_tool` was appended (fastmcp-abi 1.0), with
/// a version and a manifest of our choosing. Its `call` answers every request with a text
/// result holding the request it received.
const FAKE_PLUGIN: &str = r#"
#[repr(C)]
pub struct Buf { ptr: *mut u8, len: usize, cap: usize }

#[repr(C)]
pub struct Table {
    abi_version: u32,
    size: u32,
    manifest: unsafe extern "C" fn(*mut Buf) -> i32,
    call: unsafe extern "C" fn(*const u8, *const u8, usize, *mut Buf) -> i32,
    free_buf: unsafe extern "C" fn(Buf),
    unload: unsafe extern "C" fn(),
}

unsafe impl Sync for Table {}

static TABLE: Table = Table {
    abi_version: VERSION,
    size: std::mem::size_of::<Table>() as u32,
    manifest,
    call,
    free_buf,
    unload,
};

#[no_mangle]
pub extern "C" fn fastmcp_plugin_entry() -> *const Table {
    &TABLE
}

unsafe extern "C" fn manifest(out: *mut Buf) -> i32 {
    let mut v = std::mem::ManuallyDrop::new(MANIFEST.as_bytes().to_vec());
    *out = Buf { ptr: v.as_mut_ptr(), len: v.len(), cap: v.capacity() };
    0
}

unsafe extern "C" fn call(_: *const u8, req: *const u8, len: usize, out: *mut Buf) -> i32 {
    let request = std::str::from_utf8(std::slice::from_raw_parts(req, len)).unwrap_or("?");
    // Debug-quoting an ASCII string gives a JSON string.
    let reply = format!("{{\"content\":[{{\"type\":\"text\",\"text\":{request:?}}}]}}");
    let mut v = std::mem::ManuallyDrop::new(reply.into_bytes());
    *out = Buf { ptr: v.as_mut_ptr(), len: v.len(), cap: v.capacity() };
    0
}

unsafe extern "C" fn unload() {}

unsafe extern "C" fn free_buf(b: Buf) {
    if !b.ptr.is_null() {
        drop(Vec::from_raw_parts(b.ptr, b.len, b.cap));
    }
}
"#;

/// Compiles `source` into `dir/NAME.so` as a cdylib.
pub(crate) fn compile(dir: &Path, name: &str, source: &str) -> PathBuf {
    let src = dir.join(format!("{name}.rs"));
    std::fs::write(&src, source).unwrap();
    let out = dir.join(format!("lib{name}.so"));
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let status = Command::new(rustc)
        .args(["--edition", "2021", "--crate-type", "cdylib", "-O", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("run rustc");
    assert!(status.success(), "compiling {name} failed");
    out
}

fn fake_plugin(dir: &Path, name: &str, version: u32, manifest: &str) -> PathBuf {
    let source = format!(
        "const VERSION: u32 = {version};\nconst MANIFEST: &str = {manifest:?};\n{FAKE_PLUGIN}"
    );
    compile(dir, name, &source)
}

/// Serves `plugins` and expects startup to fail; returns stderr.
fn refused(plugins: &[&Path]) -> String {
    let mut args = vec!["dev", "--port", "0", "--watch=false"];
    args.extend(plugins.iter().map(|p| p.to_str().unwrap()));
    let out = util::run_bin(&args, &[], Duration::from_secs(30));
    assert_eq!(
        out.code,
        Some(1),
        "expected exit code 1 (a signal shows as None): {out:?}"
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out.stderr
}

fn assert_names(stderr: &str, needles: &[&str]) {
    for n in needles {
        assert!(stderr.contains(n), "{n:?} missing from:\n{stderr}");
    }
}

#[test]
fn a_missing_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("libnothere.so");
    let stderr = refused(&[&path]);
    assert_names(&stderr, &[path.to_str().unwrap(), "No such file"]);
}

#[test]
fn a_text_file_named_so_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.so");
    std::fs::write(&path, "just some text, not a library\n").unwrap();
    let stderr = refused(&[&path]);
    assert_names(&stderr, &[path.to_str().unwrap(), "not an ELF file"]);
}

#[test]
fn a_library_without_the_entry_point_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let lib = compile(
        dir.path(),
        "noentry",
        "#[no_mangle]\npub extern \"C\" fn hello() -> u32 { 1 }\n",
    );
    let stderr = refused(&[&lib]);
    assert_names(&stderr, &[lib.to_str().unwrap(), "fastmcp_plugin_entry"]);
}

#[test]
fn a_wrong_abi_version_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let lib = fake_plugin(dir.path(), "abi99", 99, r#"{"name":"x","tools":[]}"#);
    let stderr = refused(&[&lib]);
    assert_names(&stderr, &[lib.to_str().unwrap(), "ABI version 99"]);
}

#[test]
fn invalid_manifests_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = fake_plugin(dir.path(), "garbage", 1, "{this is not json");
    let stderr = refused(&[&garbage]);
    assert_names(&stderr, &[garbage.to_str().unwrap(), "invalid manifest"]);

    let bad_name = fake_plugin(
        dir.path(),
        "badname",
        1,
        r#"{"name":"bad","tools":[{"name":"no spaces allowed!","inputSchema":{"type":"object"}}]}"#,
    );
    let stderr = refused(&[&bad_name]);
    assert_names(
        &stderr,
        &[
            bad_name.to_str().unwrap(),
            "invalid manifest",
            "no spaces allowed!",
        ],
    );

    // The fake table itself is fine: a valid manifest loads and serves.
    let good = fake_plugin(
        dir.path(),
        "good",
        1,
        r#"{"name":"good","tools":[{"name":"noop","inputSchema":{"type":"object"}}]}"#,
    );
    let server = util::serve(&good, &["--stateless"]);
    let list = server.call(&util::rpc(1, "tools/list", serde_json::json!({})), None);
    assert_eq!(list["result"]["tools"][0]["name"], "noop", "{list}");
}

#[test]
fn a_truncated_library_is_reported_not_crashed_on() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(&plugins().calculator).unwrap();
    let path = dir.path().join("libtruncated.so");
    std::fs::write(&path, &bytes[..bytes.len().min(64 * 1024)]).unwrap();
    let stderr = refused(&[&path]);
    assert_names(&stderr, &[path.to_str().unwrap(), "truncated"]);
}

#[test]
fn two_plugins_exporting_the_same_tool_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("liba.so");
    let b = dir.path().join("libb.so");
    std::fs::copy(&plugins().calculator, &a).unwrap();
    std::fs::copy(&plugins().calculator, &b).unwrap();
    let stderr = refused(&[&a, &b]);
    assert_names(
        &stderr,
        &["calculate", a.to_str().unwrap(), b.to_str().unwrap()],
    );
}

#[test]
fn a_plugin_built_before_call_tool_gets_tool_calls_as_generic_requests() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = r#"{"name":"old","tools":[
        {"name":"on-workers","inputSchema":{"type":"object"}},
        {"name":"inline","inputSchema":{"type":"object"},"inline":true},
        {"name":"marked-async","inputSchema":{"type":"object"},"async":true}]}"#;
    let old = fake_plugin(dir.path(), "old", 1, manifest);
    for mode in [&["--stateless"][..], &[]] {
        let server = util::serve(&old, mode);
        let session = (mode.is_empty()).then(|| server.initialize());
        // A plugin without `start_tool` gets even a tool it marks async on the workers.
        for tool in ["on-workers", "inline", "marked-async"] {
            let params = serde_json::json!({"name": tool, "arguments": {"x": [1, "two"]}});
            let reply = server.call(
                &util::rpc(2, "tools/call", params.clone()),
                session.as_deref(),
            );
            let received: serde_json::Value = serde_json::from_str(&util::text_of(&reply))
                .unwrap_or_else(|e| panic!("{tool}: {e}: {reply}"));
            assert_eq!(received["method"], "tools/call", "{tool}: {received}");
            assert_eq!(received["params"], params, "{tool}: {received}");
            assert_eq!(received["context"]["requestId"], 2, "{tool}: {received}");
            assert!(
                received["context"]["protocolVersion"].is_string(),
                "{received}"
            );
        }
    }
}
