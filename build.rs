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
//! It also hands the linker the code-layout scripts of `link/` ([`LINK_ORDER`]): each places
//! the functions a binary runs to start and serve together at the front of its code, so an
//! idle process touches fewer 64 KiB fault-around windows of it (docs/performance.md, "Code
//! layout"; `bench/link-order.sh` regenerates them).

use std::fs;
use std::path::{Path, PathBuf};

/// What the hash covers, relative to the package root; directories are walked.
const INPUTS: &[&str] = &[
    "build.rs",
    "Cargo.toml",
    "Cargo.lock",
    "src",
    "tool-plugins/fastmcp-abi/Cargo.toml",
    "tool-plugins/fastmcp-abi/src",
];

/// Which binary gets which code-layout script (an `INSERT` linker script, which GNU ld and lld
/// both add to their default layout).
const LINK_ORDER: &[(&str, &str)] = &[("fastmcp", "link/fastmcp.ld")];

/// Set to `0` to link without the layout scripts (for a linker that does not read `INSERT`
/// scripts, such as mold).
const LINK_ORDER_ENV: &str = "FASTMCP_LINK_ORDER";

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
    link_order(&root);
}

/// Passes each binary its layout script, on ELF Linux targets only, unless switched off. A
/// script that matches nothing (stale names) costs only the gain; a missing one is skipped
/// (a package without `link/`).
fn link_order(root: &Path) {
    println!("cargo::rerun-if-env-changed={LINK_ORDER_ENV}");
    println!("cargo::rerun-if-changed=link");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let off = std::env::var(LINK_ORDER_ENV).is_ok_and(|v| v == "0");
    // mold and other linkers read only part of the script language.
    let other_linker = std::env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|f| {
        f.split('\x1f').any(|flag| {
            flag.contains("fuse-ld=")
                && !flag.contains("fuse-ld=lld")
                && !flag.contains("fuse-ld=bfd")
        })
    });
    if !linux || off || other_linker {
        return;
    }
    for (bin, script) in LINK_ORDER {
        let path = root.join(script);
        let text = path.to_string_lossy();
        // `-Wl,` splits at commas.
        if path.is_file() && !text.contains(',') {
            println!("cargo::rustc-link-arg-bin={bin}=-Wl,-T,{text}");
        }
    }
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
