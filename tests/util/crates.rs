//! Plugin crates written by a test and built against this workspace's SDK.

use std::path::{Path, PathBuf};

use super::{root, target_dir};

/// A plugin crate `name` in `dir` (its directory is returned) with `source` as `src/lib.rs`,
/// depending on this workspace's SDK. Give every test its own `name`: the cdylib's file name
/// is the crate's, and tests building at once share [`crates_target_dir`].
pub fn plugin_crate(dir: &Path, name: &str, source: &str) -> PathBuf {
    let krate = dir.join(name);
    std::fs::create_dir_all(krate.join("src")).unwrap();
    let sdk = root().join("tool-plugins/fastmcp-sdk");
    let toml = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n\
         [dependencies]\nfastmcp-sdk = {{ path = {sdk:?} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n\n\
         [workspace]\n"
    );
    std::fs::write(krate.join("Cargo.toml"), toml).unwrap();
    std::fs::copy(root().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    std::fs::write(krate.join("src/lib.rs"), source).unwrap();
    krate
}

/// A plugin with one tool, `hello`, that returns `greeting`.
pub fn hello_source(greeting: &str) -> String {
    format!(
        "use fastmcp_sdk::prelude::*;\n\n/// Says hello\n#[tool]\nfn hello() -> String {{\n    \"{greeting}\".to_string()\n}}\n\nfastmcp_sdk::export_plugin! {{\n    name: \"hot\",\n    version: \"0.1.0\",\n    tools: [hello],\n}}\n"
    )
}

/// The `CARGO_TARGET_DIR` of the crates [`plugin_crate`] writes: shared, so the SDK's
/// dependencies are built once across tests and runs.
pub fn crates_target_dir() -> String {
    target_dir().join("test-crates").display().to_string()
}
