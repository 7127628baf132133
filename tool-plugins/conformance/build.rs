//! Rebuilds the plugin when a file is added to or removed from `skills/` (edits are tracked
//! by the `include_bytes!` that `fastmcp_sdk::skills!` writes for every file).

fn main() {
    println!("cargo:rerun-if-changed=skills");
}
