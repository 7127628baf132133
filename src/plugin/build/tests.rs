//! Unit tests of [`super`]: build.

use super::*;

/// A `compiler-artifact` line as cargo 1.95 prints it (trimmed of fields we ignore).
const ARTIFACT: &str = r#"{"reason":"compiler-artifact","package_id":"path+file:///tmp/calc#0.1.0","manifest_path":"/tmp/calc/Cargo.toml","target":{"kind":["cdylib","rlib"],"crate_types":["cdylib","rlib"],"name":"calc","src_path":"/tmp/calc/src/lib.rs","edition":"2024","doc":true,"doctest":false,"test":true},"profile":{"opt_level":"0","debuginfo":2,"debug_assertions":true,"overflow_checks":true,"test":false},"features":[],"filenames":["/tmp/calc/target/debug/libcalc.so","/tmp/calc/target/debug/libcalc.dylib","/tmp/calc/target/debug/calc.dll","/tmp/calc/target/debug/libcalc.rlib"],"executable":null,"fresh":false}"#;

#[test]
fn artifact_line_gives_the_cdylib_of_our_crate() {
    let artifact = Artifact::from_line(ARTIFACT).expect("an artifact");
    assert!(!artifact.fresh);
    let lib = artifact
        .cdylib_of(Path::new("/tmp/calc/Cargo.toml"))
        .expect("our cdylib");
    assert_eq!(lib.extension().unwrap(), std::env::consts::DLL_EXTENSION);
    assert_eq!(artifact.cdylib_of(Path::new("/tmp/other/Cargo.toml")), None);
    assert!(Artifact::from_line(r#"{"reason":"build-finished","success":true}"#).is_none());
    assert!(Artifact::from_line("not json").is_none());
}

#[test]
fn scan_reports_fresh_only_when_every_artifact_is() {
    let fresh = ARTIFACT.replace(r#""fresh":false"#, r#""fresh":true"#);
    let input = format!("{fresh}\n{{\"reason\":\"build-finished\",\"success\":true}}\n");
    let (lib, all_fresh) =
        scan_messages(input.as_bytes(), Path::new("/tmp/calc/Cargo.toml")).unwrap();
    assert!(lib.is_some() && all_fresh);
    let input = format!("{fresh}\n{ARTIFACT}\n");
    let (_, all_fresh) =
        scan_messages(input.as_bytes(), Path::new("/tmp/calc/Cargo.toml")).unwrap();
    assert!(!all_fresh);
}

#[test]
fn diagnostics_keep_errors_and_drop_progress_and_warnings() {
    let stderr = "   Compiling bad v0.1.0 (/tmp/bad)
warning: unused variable: `x`
 --> src/lib.rs:1:5
  |
  = note: `#[warn(unused_variables)]` on by default

error[E0308]: mismatched types
 --> src/lib.rs:2:21
  |
2 | pub fn f() -> u32 { \"x\" }
  |               ---   ^^^ expected `u32`, found `&str`

For more information about this error, try `rustc --explain E0308`.
warning: `bad` (lib) generated 1 warning
error: could not compile `bad` (lib) due to 1 previous error; 1 warning emitted
";
    let mut diagnostics = Diagnostics::default();
    stderr.lines().for_each(|l| diagnostics.push(l));
    let message = diagnostics.into_message();
    assert!(
        message.starts_with("error[E0308]: mismatched types\n --> src/lib.rs:2:21"),
        "{message}"
    );
    assert!(
        message.contains("^^^ expected `u32`, found `&str`"),
        "{message}"
    );
    assert!(message.ends_with(
        "error: could not compile `bad` (lib) due to 1 previous error; 1 warning emitted"
    ));
    assert!(
        !message.contains("Compiling") && !message.contains("unused"),
        "{message}"
    );
}

#[test]
fn a_failure_the_user_saw_is_not_printed_again() {
    use std::os::unix::process::ExitStatusExt;
    let failed = |shown| BuildError::Failed {
        manifest_path: PathBuf::from("/tmp/bad/Cargo.toml"),
        status: ExitStatus::from_raw(101 << 8),
        messages: "error[E0308]: mismatched types".into(),
        shown,
    };
    let quiet = failed(false).to_string();
    assert!(
        quiet.ends_with(":\nerror[E0308]: mismatched types"),
        "{quiet}"
    );
    let shown = failed(true);
    assert!(!shown.to_string().contains("E0308"), "{shown}");
    assert!(shown.to_string().contains("printed above"), "{shown}");
    assert_eq!(shown.compiler_errors(), "error[E0308]: mismatched types");
}

/// A standalone crate. Names differ per test: `CARGO_TARGET_DIR` may be shared by all.
fn write_crate(dir: &Path, name: &str, crate_type: &str, source: &str) -> PathBuf {
    let manifest = dir.join("Cargo.toml");
    let toml = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [lib]\ncrate-type = [{crate_type}]\n\n[workspace]\n"
    );
    std::fs::write(&manifest, toml).unwrap();
    std::fs::create_dir(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), source).unwrap();
    manifest
}

#[test]
fn builds_a_cdylib_and_reports_fresh_on_the_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_crate(
        dir.path(),
        "fastmcp_build_ok",
        "\"cdylib\"",
        "#[unsafe(no_mangle)]\npub extern \"C\" fn f() -> u32 { 1 }\n",
    );
    let first = cargo_build(&manifest, "dev", false).expect("builds");
    assert!(first.library.is_file(), "{first:?}");
    let name = first.library.file_name().unwrap().to_str().unwrap();
    let (prefix, suffix) = (std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    assert_eq!(name, format!("{prefix}fastmcp_build_ok{suffix}"));
    assert!(
        first.library.parent().unwrap().ends_with("debug"),
        "{first:?}"
    );
    assert!(!first.fresh);
    let second = cargo_build(&manifest, "dev", false).expect("builds again");
    assert_eq!(second.library, first.library);
    assert!(second.fresh);
}

#[test]
fn a_type_error_is_reported_with_the_compiler_message() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_crate(
        dir.path(),
        "fastmcp_build_bad",
        "\"cdylib\"",
        "pub fn f() -> u32 { \"x\" }\n",
    );
    let err = cargo_build(&manifest, "dev", false).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, BuildError::Failed { .. }), "{err:?}");
    assert!(text.contains("error[E0308]: mismatched types"), "{text}");
    assert!(
        text.contains("pub fn f() -> u32"),
        "snippet missing: {text}"
    );
}

#[test]
fn a_crate_without_cdylib_is_no_library() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_crate(
        dir.path(),
        "fastmcp_build_rlib",
        "\"rlib\"",
        "pub fn f() {}\n",
    );
    let err = cargo_build(&manifest, "dev", false).unwrap_err();
    assert!(matches!(err, BuildError::NoLibrary { .. }), "{err:?}");
}

#[test]
fn a_missing_crate_fails_with_cargos_message() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("nowhere/Cargo.toml");
    let err = cargo_build(&manifest, "dev", false).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, BuildError::Failed { .. }), "{err:?}");
    assert!(
        text.starts_with(&format!("{}: cargo build failed", manifest.display())),
        "{text}"
    );
    assert!(
        text.contains("error:") && text.contains("does not exist"),
        "{text}"
    );
}
