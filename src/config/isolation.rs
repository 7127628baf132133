//! The settings of isolated plugins: `--isolate` and `--isolate-crash-loop`.

use std::path::Path;

use super::parse::parse_positive_duration;
use super::{Config, ConfigError, CrashLoop, Isolation, PluginSource, read_env};

/// `COUNT/DURATION`, e.g. `5/30s`: that many crashes within that long.
pub(super) fn parse_crash_loop(s: &str) -> Result<CrashLoop, String> {
    let (count, window) = s
        .split_once('/')
        .ok_or("expected COUNT/DURATION, e.g. 5/30s")?;
    let crashes = count
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|c| *c >= 1)
        .ok_or_else(|| format!("{count:?} is not a crash count of at least 1"))?;
    let window = parse_positive_duration(window.trim())?;
    Ok(CrashLoop { crashes, window })
}

/// Every name `--isolate` lists must be one of the plugins: a misspelt name would silently run
/// that plugin in-process, and a bare `--isolate` before a PLUGIN takes the plugin as a name.
pub(super) fn check_isolated_names(config: &Config) -> Result<(), ConfigError> {
    let Isolation::Only(names) = &config.isolate else {
        return Ok(());
    };
    for name in names {
        let one = Isolation::Only(vec![name.clone()]);
        let found = config.plugins.iter().any(|p| match p {
            PluginSource::Library(path) => one.covers(&path.display().to_string(), path),
            PluginSource::Crate { manifest_path } => {
                let dir = manifest_path.parent().unwrap_or(manifest_path);
                one.covers(&dir.display().to_string(), Path::new(""))
            }
        });
        if !found {
            return Err(ConfigError::invalid(
                "--isolate",
                &names.join(","),
                format!(
                    "{name:?} is none of the plugins (name one by its file, e.g. libcalc.so or                      calc, or its crate directory); a bare --isolate takes the next word as its                      value, so write --isolate=true before a PLUGIN"
                ),
            ));
        }
    }
    Ok(())
}

/// `--isolate` for `inspect` and `call`: the flag, then `FASTMCP_ISOLATE`, then none.
pub fn resolve_isolate(
    flag: Option<String>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Isolation, ConfigError> {
    let (e, _) = read_env(env)?;
    let sources = [
        ("--isolate".into(), flag),
        ("FASTMCP_ISOLATE".into(), e.isolate),
    ];
    super::get(sources, Isolation::None, Isolation::parse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn crash_loops_read_count_and_window() {
        assert_eq!(
            parse_crash_loop("5/30s"),
            Ok(CrashLoop {
                crashes: 5,
                window: Duration::from_secs(30)
            })
        );
        assert!(parse_crash_loop("0/30s").is_err());
        assert!(parse_crash_loop("5").is_err());
        assert!(parse_crash_loop("5/0s").is_err());
    }

    #[test]
    fn isolate_comes_from_the_flag_then_the_variable() {
        let env = || vec![("FASTMCP_ISOLATE".to_string(), "false".to_string())];
        assert_eq!(resolve_isolate(None, env()).unwrap(), Isolation::None);
        assert_eq!(
            resolve_isolate(Some("true".into()), env()).unwrap(),
            Isolation::All
        );
        let bad = vec![("FASTMCP_ISOLATE".to_string(), ",".to_string())];
        let err = resolve_isolate(None, bad).unwrap_err().to_string();
        assert!(err.contains("FASTMCP_ISOLATE"), "{err}");
    }
}
