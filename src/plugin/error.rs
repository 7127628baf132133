//! Errors of the plugin subsystem: loading, checking and calling plugin libraries.

use std::path::PathBuf;

/// Why a plugin could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The path does not exist or cannot be read.
    #[error("{path}: cannot read plugin file: {source}")]
    Read {
        /// The plugin file as the user named it.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// Copying the library to its private per-generation path failed.
    #[error("{path}: cannot copy plugin to {copy}: {source}")]
    Copy {
        /// The plugin file.
        path: PathBuf,
        /// Where the private copy was to go.
        copy: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// `dlopen` refused the file (not a shared library, wrong architecture, missing deps).
    #[error("{path}: not a loadable shared library: {reason}")]
    Open {
        /// The plugin file.
        path: PathBuf,
        /// The loader's message.
        reason: String,
    },
    /// The library does not export `fastmcp_plugin_entry`.
    #[error(
        "{path}: not a fastmcp plugin: it does not export `fastmcp_plugin_entry` (build it with fastmcp-sdk's `export_plugin!`)"
    )]
    MissingEntry {
        /// The plugin file.
        path: PathBuf,
    },
    /// The plugin speaks another ABI version.
    #[error(
        "{path}: plugin ABI version {found} is not supported (this fastmcp speaks ABI version {expected}); rebuild the plugin against a matching fastmcp-sdk"
    )]
    AbiMismatch {
        /// The plugin file.
        path: PathBuf,
        /// The version the plugin reported.
        found: u32,
        /// The version the host speaks.
        expected: u32,
    },
    /// The entry point returned something that is not a usable table.
    #[error("{path}: invalid plugin table: {reason}")]
    BadTable {
        /// The plugin file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The manifest could not be obtained or is invalid.
    #[error("{path}: invalid manifest: {reason}")]
    Manifest {
        /// The plugin file.
        path: PathBuf,
        /// What was wrong, naming the tool where there is one.
        reason: String,
    },
    /// Two plugins export the same name.
    #[error("duplicate {kind} `{name}`: exported by both {first} and {second}")]
    Duplicate {
        /// "tool", "prompt", "resource", "resource template" or "skill".
        kind: &'static str,
        /// The name both export.
        name: String,
        /// The plugin that had it first.
        first: String,
        /// The plugin that exported it again.
        second: String,
    },
    /// Building a plugin crate failed.
    #[error(transparent)]
    Build(#[from] crate::plugin::build::BuildError),
    /// The async runtime a one-shot command runs the plugin on could not start.
    #[error("{path}: the isolated plugin's child process did not start: {reason}")]
    Isolated {
        /// The plugin file.
        path: PathBuf,
        /// What went wrong, with the child's last stderr lines.
        reason: String,
    },

    #[error("cannot start an async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The plugin's worker threads are gone (the server is shutting down).
    #[error("{path}: plugin worker threads are shut down")]
    Closed {
        /// The plugin file.
        path: PathBuf,
    },
}
