//! Which names `fastmcp new` accepts: what cargo accepts as a package name (and crates.io as a
//! crate name), minus names that would clash with the generated crate's own dependencies.

/// Rust's keywords, strict and reserved: cargo refuses them as package names, because the
/// library would be named after one.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// The standard library's crates: cargo refuses them, a crate named so would shadow them.
const BUILT_IN: &[&str] = &["alloc", "core", "proc_macro", "std", "test"];

/// The generated crate's dependencies (normalised to `_`): a package cannot depend on a
/// package of its own name.
const DEPENDENCIES: &[&str] = &["fastmcp_sdk", "fastmcp_sdk_macros", "fastmcp_abi", "serde"];

/// The longest name crates.io takes.
const MAX_LEN: usize = 64;

/// `Ok` when `name` can name the new crate, else why not.
pub(crate) fn check(name: &str) -> Result<(), String> {
    let Some(first) = name.chars().next() else {
        return Err("the name is empty".into());
    };
    if name.contains('/') {
        return Err("it is a path; give the name alone and the directory with --path".into());
    }
    if !first.is_ascii_alphabetic() {
        return Err(format!("it must start with an ASCII letter, not {first:?}"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "{bad:?} is not allowed; use ASCII letters, digits, `-` and `_`"
        ));
    }
    if name.len() > MAX_LEN {
        return Err(format!("it is longer than {MAX_LEN} characters"));
    }
    let library = name.replace('-', "_");
    if KEYWORDS.contains(&library.as_str()) {
        return Err(format!("`{library}` is a Rust keyword"));
    }
    if BUILT_IN.contains(&library.as_str()) {
        return Err(format!("`{library}` is a crate of the standard library"));
    }
    if DEPENDENCIES.contains(&library.as_str()) {
        return Err("the new crate depends on a crate of that name".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_what_cargo_accepts() {
        for name in ["demo", "my-tools", "my_tools", "Tools2", "a"] {
            assert_eq!(check(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn refuses_with_a_reason() {
        let cases = [
            ("", "empty"),
            ("1tools", "start with an ASCII letter"),
            ("-tools", "start with an ASCII letter"),
            ("my tools", "' ' is not allowed"),
            ("my.tools", "'.' is not allowed"),
            ("plugins/my-tools", "the directory with --path"),
            ("./my-tools", "the directory with --path"),
            ("outils-é", "'é' is not allowed"),
            ("fn", "Rust keyword"),
            ("async", "Rust keyword"),
            ("test", "standard library"),
            ("proc-macro", "standard library"),
            ("fastmcp-sdk", "depends on a crate of that name"),
            ("serde", "depends on a crate of that name"),
        ];
        for (name, reason) in cases {
            let err = check(name).expect_err(name);
            assert!(err.contains(reason), "{name}: {err}");
        }
        assert!(check(&"a".repeat(65)).unwrap_err().contains("64"));
    }
}
