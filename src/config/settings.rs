//! Picking one setting from its sources (flag, then variables, then the default), with errors
//! that name the source, and the settings that hold secrets, which no error or log shows.

use std::fmt;

use super::{ConfigError, parse_bool};

/// Parses the value of the first source that has one (sources in priority order: flag, then
/// variables), or returns `default` when none has. Errors name the source.
pub(super) fn get<T, const N: usize>(
    sources: [(String, Option<String>); N],
    default: T,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    match sources
        .into_iter()
        .find_map(|(name, value)| Some((name, value?)))
    {
        None => Ok(default),
        Some((name, value)) => parse(&value).map_err(|r| ConfigError::invalid(&name, &value, r)),
    }
}

/// `--tool-timeout` and `FASTMCP_TOOL_TIMEOUT` for the field `tool_timeout`.
pub(super) fn flag_and_var(field: &str) -> (String, String) {
    let flag = format!("--{}", field.replace('_', "-"));
    (flag, format!("FASTMCP_{}", field.to_ascii_uppercase()))
}

/// A bool whose flag may be bare; its error explains that a bare flag swallows the next word.
pub(super) fn parse_flag_bool(flag: &str) -> impl Fn(&str) -> Result<bool, String> {
    move |s| {
        parse_bool(s).map_err(|reason| {
            format!(
                "{reason}; a bare {flag} takes the next word as its value, \
                 so write {flag}=true before a PLUGIN"
            )
        })
    }
}

/// A secret from a flag or the environment: compared and used, never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(super) String);

impl Secret {
    /// The secret's value, for the one place that uses it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// `memory` (or nothing) keeps sessions in memory; `redis://...` shares them. The value may
/// hold a password, so errors never show it.
pub(super) fn session_store_setting(
    sources: [(String, Option<String>); 2],
) -> Result<Option<Secret>, ConfigError> {
    match sources.into_iter().find_map(|(name, v)| Some((name, v?))) {
        None => Ok(None),
        Some((_, v)) if v.eq_ignore_ascii_case("memory") => Ok(None),
        Some((name, v)) => {
            let redacted = if v.contains('@') {
                "<redacted>"
            } else {
                v.as_str()
            };
            if !v.starts_with("redis://") {
                return Err(ConfigError::invalid(
                    &name,
                    redacted,
                    "expected memory or a redis://host:port/db URL",
                ));
            }
            match redis::Client::open(v.as_str()) {
                Ok(_) => Ok(Some(Secret(v))),
                Err(_) => Err(ConfigError::invalid(
                    &name,
                    redacted,
                    "not a valid redis:// URL",
                )),
            }
        }
    }
}

/// A secret of at least 32 bytes; the error names the source but never shows the value.
pub(super) fn secret_setting(
    sources: [(String, Option<String>); 2],
) -> Result<Option<Secret>, ConfigError> {
    match sources.into_iter().find_map(|(name, v)| Some((name, v?))) {
        None => Ok(None),
        Some((_, v)) if v.len() >= 32 => Ok(Some(Secret(v))),
        Some((name, v)) => Err(ConfigError::invalid(
            &name,
            "<redacted>",
            format!("must be at least 32 bytes long (got {})", v.len()),
        )),
    }
}
