//! `fastmcp new NAME`: writes a plugin crate that tests, builds and serves at once.
//!
//! The files are templates compiled into the binary ([`templates`]), so an installed `fastmcp`
//! needs nothing else to start a crate. Where the crate's `fastmcp-sdk` comes from is decided
//! in [`sdk`]: a version from crates.io, or a path (`--sdk-path`, or the fastmcp checkout this
//! binary was built from). Nothing is ever overwritten: the target directory must be new or
//! empty, and each file is created with `create_new`.

mod name;
mod sdk;
mod templates;

use std::path::{Path, PathBuf};

pub(crate) use sdk::{Sdk, SdkChoice};

/// Why `fastmcp new` wrote nothing (or stopped part-way, for [`ScaffoldError::Io`]).
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// NAME is not a valid crate name, or one that would clash with the crate's dependencies.
    #[error("invalid crate name {name:?}: {reason}")]
    InvalidName {
        /// The name as typed.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `--sdk-path` does not point at fastmcp-sdk.
    #[error("--sdk-path {}: {reason}", path.display())]
    NotAnSdk {
        /// The path as typed.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// The target exists and holds files (or is not a directory): nothing is overwritten.
    #[error(
        "{} already exists and is not an empty directory; choose another NAME or --path",
        dir.display()
    )]
    NotEmpty {
        /// The crate directory.
        dir: PathBuf,
    },
    /// Creating a directory or writing a file failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl ScaffoldError {
    /// Whether the error is a bad argument (exit code 2) rather than a failure to act (1).
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::InvalidName { .. } | Self::NotAnSdk { .. })
    }
}

/// What `fastmcp new` wrote.
#[derive(Debug)]
pub struct Created {
    /// The crate directory, as given (or `./NAME`).
    pub(crate) dir: PathBuf,
    /// The crate's name.
    pub(crate) name: String,
    /// Where its `fastmcp-sdk` comes from.
    pub(crate) sdk: Sdk,
    /// Why that source was chosen.
    pub(crate) choice: SdkChoice,
}

impl Created {
    /// One line saying which SDK the crate depends on, and why (for stderr).
    pub fn sdk_note(&self) -> String {
        match (&self.sdk, self.choice) {
            (Sdk::Path(p), SdkChoice::Flag) => {
                format!("fastmcp-sdk: path {} (--sdk-path)", p.display())
            }
            (Sdk::Path(p), _) => format!(
                "fastmcp-sdk: path {}, the SDK of the fastmcp checkout this binary was built \
                 from (--sdk-path chooses another)",
                p.display()
            ),
            (Sdk::Version(v), _) => format!("fastmcp-sdk: version {v} from crates.io"),
        }
    }

    /// What to run next (for stdout).
    pub fn next_steps(&self) -> String {
        let dir = self.dir.display();
        format!(
            "Created plugin crate `{name}` in {dir}\n\
             \n\
             Next:\n  \
             cd {dir} && cargo test      # the unit tests in src/lib.rs\n  \
             fastmcp dev {dir}           # build, serve on http://127.0.0.1:8080/mcp, reload on save\n",
            name = self.name,
        )
    }
}

/// Writes the crate `name` into `dir` (default `./NAME`), depending on the SDK at `sdk_path`,
/// or else on the one [`sdk::choose`] finds.
pub fn create(
    name: &str,
    dir: Option<&Path>,
    sdk_path: Option<&Path>,
) -> Result<Created, ScaffoldError> {
    name::check(name).map_err(|reason| ScaffoldError::InvalidName {
        name: name.to_string(),
        reason,
    })?;
    let (sdk, choice) = sdk::choose(sdk_path)?;
    let dir = dir.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    prepare_dir(&dir)?;
    for (relative, text) in templates::render(name, &sdk) {
        write_new(&dir.join(relative), &text)?;
    }
    Ok(Created {
        dir,
        name: name.to_string(),
        sdk,
        choice,
    })
}

/// Creates `dir` (and its parents), or accepts it if it exists and is empty.
fn prepare_dir(dir: &Path) -> Result<(), ScaffoldError> {
    let io = |source| ScaffoldError::Io {
        path: dir.to_path_buf(),
        source,
    };
    match std::fs::read_dir(dir).map(|mut entries| entries.next().is_none()) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ScaffoldError::NotEmpty {
            dir: dir.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io)
        }
        // A file (or something unreadable) where the directory should be.
        Err(_) if dir.exists() => Err(ScaffoldError::NotEmpty {
            dir: dir.to_path_buf(),
        }),
        Err(e) => Err(io(e)),
    }
}

/// Writes `text` to `path`, creating parent directories; never replaces an existing file.
fn write_new(path: &Path, text: &str) -> Result<(), ScaffoldError> {
    use std::io::Write;
    let io = |source| ScaffoldError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_file_into_an_empty_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("tool-plugins/fastmcp-sdk");
        let created = create("demo", Some(tmp.path()), Some(&sdk)).unwrap();
        assert_eq!(created.choice, SdkChoice::Flag);
        for file in [
            "Cargo.toml",
            "src/lib.rs",
            "README.md",
            ".gitignore",
            "Dockerfile",
            ".dockerignore",
        ] {
            assert!(tmp.path().join(file).is_file(), "{file}");
        }
        assert!(created.next_steps().contains("fastmcp dev "));
    }

    #[test]
    fn refuses_a_directory_with_files_and_leaves_them_alone() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
        let err = create("demo", Some(tmp.path()), None).unwrap_err();
        assert!(matches!(err, ScaffoldError::NotEmpty { .. }), "{err}");
        assert!(!err.is_usage());
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("notes.txt")).unwrap(),
            "mine"
        );
        assert!(!tmp.path().join("Cargo.toml").exists());
    }

    #[test]
    fn refuses_a_file_in_place_of_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("demo");
        std::fs::write(&file, "").unwrap();
        let err = create("demo", Some(&file), None).unwrap_err();
        assert!(matches!(err, ScaffoldError::NotEmpty { .. }), "{err}");
    }

    #[test]
    fn an_invalid_name_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("x");
        let err = create("1abc", Some(&dir), None).unwrap_err();
        assert!(err.is_usage(), "{err}");
        assert!(!dir.exists());
    }
}
