//! The files of a new plugin crate: templates under `scaffold/templates/`, compiled into the
//! binary, with `{{name}}`-style placeholders filled in.
//!
//! The templates are `.tmpl` files, not `.rs` or `Cargo.toml`: cargo must neither compile the
//! plugin's `lib.rs` as part of fastmcp nor take the template manifest for a package.

use super::sdk::{self, Sdk};

/// Each file of the crate: its path inside the crate and its template.
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("templates/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("templates/lib.rs.tmpl")),
    ("README.md", include_str!("templates/README.md.tmpl")),
    (".gitignore", include_str!("templates/gitignore.tmpl")),
    ("Dockerfile", include_str!("templates/Dockerfile.tmpl")),
    (".dockerignore", include_str!("templates/dockerignore.tmpl")),
];

/// The crate's files, rendered for the crate `name` depending on `sdk`.
pub(crate) fn render(name: &str, sdk: &Sdk) -> Vec<(&'static str, String)> {
    let values = [
        ("{{name}}", name.to_string()),
        ("{{lib_name}}", name.replace('-', "_")),
        ("{{sdk_dependency}}", sdk::dependency(sdk)),
        ("{{sdk_version}}", sdk::SDK_VERSION.to_string()),
        ("{{fastmcp_version}}", env!("CARGO_PKG_VERSION").to_string()),
    ];
    FILES
        .iter()
        .map(|(path, template)| {
            let text = values
                .iter()
                .fold(template.to_string(), |text, (key, value)| {
                    text.replace(key, value)
                });
            (*path, text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(files: &[(&str, String)], path: &str) -> String {
        files.iter().find(|(p, _)| *p == path).unwrap().1.clone()
    }

    #[test]
    fn every_placeholder_is_filled() {
        for sdk in [Sdk::Version("0.1".into()), Sdk::Path("/x/sdk".into())] {
            for (path, text) in render("my-tools", &sdk) {
                assert!(!text.contains("{{"), "{path} keeps a placeholder:\n{text}");
            }
        }
    }

    #[test]
    fn the_manifest_is_a_standalone_cdylib_depending_on_the_chosen_sdk() {
        let files = render("my-tools", &Sdk::Version("0.1".into()));
        let toml = file(&files, "Cargo.toml");
        assert!(toml.contains("name = \"my-tools\""), "{toml}");
        assert!(toml.contains("crate-type = [\"cdylib\"]"), "{toml}");
        assert!(toml.contains("\nfastmcp-sdk = \"0.1\"\n"), "{toml}");
        assert!(toml.trim_end().ends_with("[workspace]"), "{toml}");
        let files = render("my-tools", &Sdk::Path("/x/sdk".into()));
        let toml = file(&files, "Cargo.toml");
        assert!(
            toml.contains("\nfastmcp-sdk = { path = \"/x/sdk\" }\n"),
            "{toml}"
        );
    }

    #[test]
    fn the_docker_build_context_leaves_the_local_build_out() {
        let files = render("demo", &Sdk::Version("0.1".into()));
        let ignore = file(&files, ".dockerignore");
        assert!(ignore.lines().any(|l| l == "target"), "{ignore}");
    }

    /// Isolated plugins run in the small plugin host only when it sits beside `fastmcp`.
    #[test]
    fn the_image_ships_the_plugin_host_beside_fastmcp() {
        let files = render("demo", &Sdk::Version("0.1".into()));
        let dockerfile = file(&files, "Dockerfile");
        for bin in ["fastmcp", "fastmcp-plugin-host"] {
            let copy = format!("COPY --from=fastmcp /usr/local/bin/{bin} /usr/local/bin/{bin}\n");
            assert!(dockerfile.contains(&copy), "{dockerfile}");
        }
    }

    #[test]
    fn the_library_name_uses_underscores() {
        let files = render("my-tools", &Sdk::Version("0.1".into()));
        let dockerfile = file(&files, "Dockerfile");
        assert!(dockerfile.contains("/app/libmy_tools.so"), "{dockerfile}");
        assert!(file(&files, "src/lib.rs").contains("name: \"my-tools\","));
    }
}
