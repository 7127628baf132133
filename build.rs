//! Build script: the source hash in the build id of isolated plugins' child binary
//! (`src/plugin/isolate/exe.rs`). The host uses the `fastmcp-plugin-host` beside it only when
//! that binary reports the same build id, so the id must change whenever anything the child
//! compiles changes: every file of this package's library (the child runs the loader, the
//! generation machinery, the sandbox and the wire frames, which call into most of it), the
//! ABI crate it depends on by path, and the manifests and lock file that pick the versions of
//! everything else. Hashing all of `src/` rather than the modules the child happens to call
//! today keeps the id true when the child starts calling more.
//!
//! Exports `FASTMCP_SOURCE_HASH` to the crate, and writes the list of hashed files to
//! `$OUT_DIR/source_hash_inputs.txt` so a unit test can check what the hash covers.
//!
//! It also links each binary with its code-layout script ([`LINK_SCRIPTS`]): an `INSERT`
//! linker script that groups the code the process runs to start, serve and idle at the start
//! of its text, so it maps fewer 64 KiB fault-around windows of it (docs/performance.md, "Code
//! layout" and "Memory of an idle child"). Only on Linux, and only when a test link with the
//! same compiler, target, linker and flags accepts the script: GNU ld and lld do; a linker
//! that rejects it (one without `INSERT`) would fail the build, so it is left out there, with
//! a warning. `FASTMCP_HOST_LINK_ORDER` and `FASTMCP_CHILD_LINK_ORDER` tell the crate's tests
//! which way it went.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the hash covers, relative to the package root; directories are walked.
const INPUTS: &[&str] = &[
    "build.rs",
    "Cargo.toml",
    "Cargo.lock",
    "src",
    "tool-plugins/fastmcp-abi/Cargo.toml",
    "tool-plugins/fastmcp-abi/src",
];

/// The build settings that change the compiled code without changing a source file.
const SETTINGS: &[&str] = &["PROFILE", "OPT_LEVEL", "DEBUG", "TARGET", "RUSTC"];

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    for input in INPUTS {
        println!("cargo::rerun-if-changed={input}");
        collect(&root, Path::new(input), &mut files);
    }
    files.sort();
    let mut hash = FNV_OFFSET;
    for file in &files {
        let text = fs::read(root.join(file)).expect("read a source file");
        hash = fnv1a(hash, file.to_string_lossy().as_bytes());
        hash = fnv1a(hash, &(text.len() as u64).to_le_bytes());
        hash = fnv1a(hash, &text);
    }
    for name in SETTINGS {
        let value = std::env::var(name).unwrap_or_default();
        hash = fnv1a(fnv1a(hash, name.as_bytes()), value.as_bytes());
    }
    println!("cargo::rustc-env=FASTMCP_SOURCE_HASH={hash:016x}");

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let list: String = files
        .iter()
        .map(|f| format!("{}\n", f.to_string_lossy()))
        .collect();
    fs::write(out.join("source_hash_inputs.txt"), list).expect("write OUT_DIR");

    for script in LINK_SCRIPTS {
        let status = match link_hot_code(&root, &out, script) {
            Ok(()) => "applied".to_owned(),
            Err(why) => why,
        };
        println!("cargo::rustc-env={}={status}", script.status_env);
    }
}

/// A binary's code-layout script.
struct LinkScript {
    bin: &'static str,
    /// Relative to the package root.
    path: &'static str,
    /// The crate's environment variable that says whether it was applied, or why not.
    status_env: &'static str,
}

/// `fastmcp`'s is made by `bench/link-order.sh`; `fastmcp-plugin-host`'s by `FORMAT=ld bash
/// bench/child-order.sh`, and it sits under `src/`, in the source hash of the child's build id.
const LINK_SCRIPTS: &[LinkScript] = &[
    LinkScript {
        bin: "fastmcp",
        path: "link/fastmcp.ld",
        status_env: "FASTMCP_HOST_LINK_ORDER",
    },
    LinkScript {
        bin: "fastmcp-plugin-host",
        path: "src/bin/plugin_host.ld",
        status_env: "FASTMCP_CHILD_LINK_ORDER",
    },
];

/// Passes `script` to the link of its binary when it applies, or says why not.
fn link_hot_code(root: &Path, out: &Path, script: &LinkScript) -> Result<(), String> {
    let (bin, rel) = (script.bin, script.path);
    println!("cargo::rerun-if-changed={rel}");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return Err(format!(
            "not linked with {rel}: it is for Linux (ELF) targets"
        ));
    }
    let path = root.join(rel);
    let text = fs::read(&path).map_err(|e| format!("not linked with {rel}: {e}"))?;
    let arg = format!("-T{}", path.display());
    if let Err(why) = linker_accepts(&arg, &text, out) {
        println!(
            "cargo::warning={bin} is linked without {rel} (an idle process then maps more of \
             its code): the linker rejected it: {why}"
        );
        return Err(format!("linker rejected it: {why}"));
    }
    println!("cargo::rustc-link-arg-bin={bin}={arg}");
    Ok(())
}

/// Links an empty program with `link_arg` as cargo would link ours: same compiler, target,
/// flags and configured linker. The answer is kept in `OUT_DIR` under a hash of all of those
/// and the script's text, so this script's reruns (every source change) link only once.
fn linker_accepts(link_arg: &str, script: &[u8], out: &Path) -> Result<(), String> {
    let var = |name| std::env::var(name).unwrap_or_default();
    let (rustc, target, linker) = (var("RUSTC"), var("TARGET"), var("RUSTC_LINKER"));
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    let mut key = fnv1a(FNV_OFFSET, script);
    for part in [link_arg, &rustc, &target, &linker, &flags] {
        key = fnv1a(fnv1a(key, part.as_bytes()), &[0]);
    }
    let answer = out.join(format!("link_probe_{key:016x}.txt"));
    if let Ok(kept) = fs::read_to_string(&answer) {
        return if kept.is_empty() { Ok(()) } else { Err(kept) };
    }
    let source = out.join("link_probe.rs");
    fs::write(&source, "fn main() {}\n").expect("write OUT_DIR");
    let mut cmd = Command::new(&rustc);
    cmd.args(["--crate-type", "bin", "--crate-name", "link_probe"])
        .args(["--target", &target, "-o"])
        .arg(out.join("link_probe"))
        .arg(format!("-Clink-arg={link_arg}"))
        .args(flags.split('\x1f').filter(|f| !f.is_empty()));
    if !linker.is_empty() {
        cmd.arg(format!("-Clinker={linker}"));
    }
    let result = match cmd.arg(&source).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(linker_message(&String::from_utf8_lossy(&o.stderr))),
        Err(e) => Err(format!("cannot run {rustc}: {e}")),
    };
    fs::write(&answer, result.as_ref().err().map_or("", String::as_str)).expect("write OUT_DIR");
    result
}

/// The line of rustc's report that carries the linker's own complaint (rustc's first line only
/// says that linking failed; its notes hold the command and then what the linker said).
fn linker_message(stderr: &str) -> String {
    let lines = || {
        stderr
            .lines()
            .map(|l| l.trim().trim_start_matches("= note:").trim())
    };
    lines()
        .skip(1)
        .find(|l| l.contains("error") || l.contains("fatal"))
        .or_else(|| lines().find(|l| !l.is_empty()))
        .unwrap_or("no message")
        .to_owned()
}

/// Adds `rel` (a file, or every file under a directory) to `files`, leaving out hidden files
/// (editor swap files) so that opening a file in an editor does not change the build id.
fn collect(root: &Path, rel: &Path, files: &mut Vec<PathBuf>) {
    let path = root.join(rel);
    let Ok(meta) = fs::metadata(&path) else {
        return;
    };
    if meta.is_file() {
        files.push(rel.to_owned());
        return;
    }
    let Ok(entries) = fs::read_dir(&path) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with('.') {
            collect(root, &rel.join(name), files);
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a: stable across Rust releases, unlike `DefaultHasher`.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
