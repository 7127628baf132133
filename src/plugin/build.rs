//! Builds a plugin crate with cargo and finds the cdylib it produced.
//!
//! Cargo runs with `--message-format json-render-diagnostics`: its stdout is one JSON message
//! per line (we want the `compiler-artifact` of the crate's cdylib), and its stderr is what a
//! person reads (progress, rendered compiler diagnostics). Stderr is teed: forwarded to ours so
//! the user sees the build, and the lines of each `error` diagnostic are kept so a failed build
//! reports the compiler's own words, snippet included.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Why a plugin crate could not be built. Every variant names the crate's manifest.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Cargo could not be started (not installed, not on `PATH`, bad `CARGO`).
    #[error("{manifest_path}: cannot run `{program}` to build the plugin: {source}")]
    Spawn {
        /// The crate's `Cargo.toml`.
        manifest_path: PathBuf,
        /// The cargo we tried to run (`$CARGO` or `cargo`).
        program: String,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// Cargo's output could not be read, or waiting for it failed.
    #[error("{manifest_path}: lost track of the cargo build: {source}")]
    Io {
        /// The crate's `Cargo.toml`.
        manifest_path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// Cargo ran and failed: compile errors, a bad manifest, a missing crate.
    #[error("{manifest_path}: cargo build failed ({status}){}", quote_messages(messages, *shown))]
    Failed {
        /// The crate's `Cargo.toml`.
        manifest_path: PathBuf,
        /// Cargo's exit status.
        status: ExitStatus,
        /// The rendered `error` diagnostics as the compiler printed them (or, when there are
        /// none, the last lines cargo printed).
        messages: String,
        /// Cargo's output was forwarded to stderr as it ran, so the message leaves the
        /// diagnostics out instead of printing them a second time.
        shown: bool,
    },
    /// The build succeeded but produced no cdylib for this crate.
    #[error(
        "{manifest_path}: cargo built no cdylib for this crate; add `crate-type = [\"cdylib\"]` under `[lib]` in its Cargo.toml"
    )]
    NoLibrary {
        /// The crate's `Cargo.toml`.
        manifest_path: PathBuf,
    },
}

/// A successful build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuildOutput {
    /// The cdylib cargo produced (inside the target directory; the loader copies it).
    pub(crate) library: PathBuf,
    /// Cargo said nothing was rebuilt, so the library is the one already there.
    pub(crate) fresh: bool,
    /// How long the build took.
    pub(crate) elapsed: Duration,
}

/// The tail of [`BuildError::Failed`]'s message: the diagnostics, unless the user saw them.
fn quote_messages(messages: &str, shown: bool) -> String {
    if shown {
        "; the compiler's errors are printed above".into()
    } else {
        format!(":\n{messages}")
    }
}

impl BuildError {
    /// The compiler's error diagnostics of a failed build (else the error's message).
    pub(crate) fn compiler_errors(&self) -> String {
        match self {
            BuildError::Failed { messages, .. } => messages.clone(),
            other => other.to_string(),
        }
    }
}

/// At most this many diagnostic lines go into [`BuildError::Failed`].
const MAX_ERROR_LINES: usize = 200;
/// Without error diagnostics, a failed build reports this many of cargo's last lines.
const TAIL_LINES: usize = 20;

/// Runs `cargo build --manifest-path M --lib --profile P --message-format json-render-diagnostics`
/// and returns the cdylib of the crate at M.
///
/// Blocking: call it from `spawn_blocking`. Cargo's human output (stderr) is forwarded to our
/// stderr when `show_progress`; the error diagnostics end up in [`BuildError::Failed`] either
/// way. `profile` is a cargo profile name (`dev` is the one whose output dir is `target/debug`).
/// Uses `$CARGO` if set, else `cargo` from `PATH`.
pub(crate) fn cargo_build(
    manifest_path: &Path,
    profile: &str,
    show_progress: bool,
) -> Result<BuildOutput, BuildError> {
    let started = Instant::now();
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    tracing::debug!(manifest = %manifest_path.display(), profile, "running cargo build");
    let mut child = Command::new(&program)
        .arg("build")
        .arg("--manifest-path")
        .arg(manifest_path)
        .args(["--lib", "--profile", profile])
        .args([
            "--message-format",
            "json-render-diagnostics",
            "--color",
            "never",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| BuildError::Spawn {
            manifest_path: manifest_path.to_owned(),
            program: program.to_string_lossy().into_owned(),
            source,
        })?;
    let io_error = |source| BuildError::Io {
        manifest_path: manifest_path.to_owned(),
        source,
    };

    let stderr = child.stderr.take().expect("stderr is piped");
    let tee = std::thread::spawn(move || tee_stderr(stderr, show_progress));
    let stdout = child.stdout.take().expect("stdout is piped");
    let scanned = scan_messages(BufReader::new(stdout), manifest_path);
    // Wait even when reading failed, so no zombie is left behind.
    let status = child.wait().map_err(io_error)?;
    let diagnostics = tee.join().unwrap_or_default();
    let (library, fresh) = scanned.map_err(io_error)?;

    if !status.success() {
        return Err(BuildError::Failed {
            manifest_path: manifest_path.to_owned(),
            status,
            messages: diagnostics.into_message(),
            shown: show_progress,
        });
    }
    let library = library.ok_or_else(|| BuildError::NoLibrary {
        manifest_path: manifest_path.to_owned(),
    })?;
    let elapsed = started.elapsed();
    tracing::debug!(library = %library.display(), fresh, ?elapsed, "cargo build finished");
    Ok(BuildOutput {
        library,
        fresh,
        elapsed,
    })
}

/// The parts of cargo's JSON messages we use; everything else is ignored.
#[derive(Debug, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
enum Message {
    CompilerArtifact(Artifact),
    #[serde(other)]
    Other,
}

/// A `compiler-artifact` message: one target that cargo compiled (or found fresh).
#[derive(Debug, Deserialize)]
struct Artifact {
    manifest_path: PathBuf,
    target: ArtifactTarget,
    filenames: Vec<PathBuf>,
    fresh: bool,
}

#[derive(Debug, Deserialize)]
struct ArtifactTarget {
    kind: Vec<String>,
}

impl Artifact {
    /// Parses one line of cargo's stdout; `None` for other messages and non-JSON lines.
    fn from_line(line: &str) -> Option<Artifact> {
        match serde_json::from_str(line) {
            Ok(Message::CompilerArtifact(artifact)) => Some(artifact),
            _ => None,
        }
    }

    /// The shared library, if this is the cdylib target of the crate at `manifest` (canonical).
    fn cdylib_of(&self, manifest: &Path) -> Option<&Path> {
        if !self.target.kind.iter().any(|k| k == "cdylib")
            || canonical(&self.manifest_path) != manifest
        {
            return None;
        }
        let is_dylib = |f: &&PathBuf| {
            f.extension()
                .is_some_and(|e| e == std::env::consts::DLL_EXTENSION)
        };
        self.filenames.iter().find(is_dylib).map(PathBuf::as_path)
    }
}

/// Reads cargo's JSON messages: the crate's cdylib, and whether every artifact was fresh.
fn scan_messages(
    stdout: impl BufRead,
    manifest_path: &Path,
) -> io::Result<(Option<PathBuf>, bool)> {
    let manifest = canonical(manifest_path);
    let (mut library, mut fresh) = (None, true);
    for line in stdout.lines() {
        let Some(artifact) = Artifact::from_line(&line?) else {
            continue;
        };
        fresh &= artifact.fresh;
        if let Some(path) = artifact.cdylib_of(&manifest) {
            library = Some(path.to_owned());
        }
    }
    Ok((library, fresh))
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

/// Forwards cargo's stderr to ours (when `show_progress`) and collects error diagnostics.
fn tee_stderr(stderr: impl Read, show_progress: bool) -> Diagnostics {
    let mut diagnostics = Diagnostics::default();
    let mut out = io::stderr();
    let mut reader = BufReader::new(stderr);
    let mut buf = Vec::new();
    // Bytes, not `lines()`: a non-UTF-8 path in cargo's output must not end the tee early.
    while matches!(reader.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        if show_progress {
            // Our stderr being gone must not stop the build.
            let _ = writeln!(out, "{line}");
        }
        diagnostics.push(line);
        buf.clear();
    }
    diagnostics
}

/// Sorts cargo's stderr lines into error diagnostics and the rest.
#[derive(Debug, Default)]
struct Diagnostics {
    /// Lines of `error` diagnostics, in order, with their snippets and notes.
    errors: Vec<String>,
    /// How many error lines did not fit in `errors`.
    dropped: usize,
    /// The last lines of everything, for failures without a diagnostic.
    tail: VecDeque<String>,
    /// Whether the current line belongs to an `error` diagnostic.
    in_error: bool,
}

impl Diagnostics {
    fn push(&mut self, line: &str) {
        if starts_diagnostic(line, "error") {
            self.in_error = true;
        } else if starts_diagnostic(line, "warning") || is_cargo_status(line) {
            self.in_error = false;
        }
        if self.in_error {
            if self.errors.len() < MAX_ERROR_LINES {
                self.errors.push(line.to_owned());
            } else {
                self.dropped += 1;
            }
        }
        if !line.trim().is_empty() {
            if self.tail.len() == TAIL_LINES {
                self.tail.pop_front();
            }
            self.tail.push_back(line.to_owned());
        }
    }

    fn into_message(self) -> String {
        let mut lines: Vec<String> = if self.errors.is_empty() {
            self.tail.into()
        } else {
            self.errors
        };
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        if self.dropped > 0 {
            lines.push(format!("… ({} more lines)", self.dropped));
        }
        if lines.is_empty() {
            return "(cargo printed nothing)".into();
        }
        lines.join("\n")
    }
}

/// `error: …` or `error[E0308]: …` at the start of a line (likewise for `warning`).
fn starts_diagnostic(line: &str, level: &str) -> bool {
    line.strip_prefix(level)
        .is_some_and(|rest| rest.starts_with([':', '[']))
}

/// Cargo's right-aligned progress lines: `   Compiling foo v0.1.0 (…)`, `    Finished …`.
/// Snippet lines are indented too, but continue with `|`, `-->`, `=` or a line number.
fn is_cargo_status(line: &str) -> bool {
    let trimmed = line.trim_start();
    let word = trimmed.split(' ').next().unwrap_or_default();
    trimmed.len() < line.len()
        && word.len() > 1
        && word.starts_with(|c: char| c.is_ascii_uppercase())
        && word[1..].chars().all(|c| c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests;
