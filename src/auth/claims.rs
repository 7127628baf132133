//! Token claim shapes shared by the shared-secret JWT check and the OAuth verifier.

use serde::Deserialize;

/// A claim that may be one string or an array of strings (`aud`, `scope`, `scp`).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values, a single string as one value.
    pub(super) fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}
