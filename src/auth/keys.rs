//! API keys: the keys file format and the constant-time lookup.
//!
//! The file has one key per line, `id:key` or `id:key:scope1,scope2`; blank lines and lines
//! starting with `#` are skipped, spaces around fields are trimmed. The id says who the caller
//! is (`ctx.caller().id` is `key:<id>`); one id may have several keys (rotation), but a key
//! belongs to one id. Keys may not contain `:` (the key ends at the second `:`, the rest of the line is the
//! comma-separated scope list, and scopes may contain `:` like `files:write`) nor whitespace.
//!
//! Only the SHA-256 digest of a key is kept. A presented key is hashed once and compared with
//! every digest in constant time, so neither the key's length nor the position of the first
//! differing byte shows in the response time.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// One accepted key.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct ApiKey {
    /// Who the key authenticates, as a caller id: `key:` and the configured id.
    pub(super) caller: String,
    /// The scopes it grants.
    pub(super) scopes: Vec<String>,
    /// SHA-256 of the key: equal length for every key, so comparisons take the same time.
    digest: [u8; 32],
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("caller", &self.caller)
            .field("scopes", &self.scopes)
            .field("key", &"<redacted>")
            .finish()
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl ApiKey {
    /// A key for the configured `id` (without the `key:` prefix).
    pub(super) fn new(id: &str, key: &str, scopes: Vec<String>) -> ApiKey {
        ApiKey {
            caller: format!("{}{id}", super::API_KEY_CALLER_PREFIX),
            scopes,
            digest: digest(key),
        }
    }
}

/// A configured key, trimmed; an error says what is wrong without repeating it.
pub(super) fn check_key(key: &str) -> Result<&str, &'static str> {
    let key = key.trim();
    if key.is_empty() {
        return Err("is empty");
    }
    // What a client can send in `x-api-key` or as a bearer token: visible ASCII, no spaces.
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("contains spaces or characters that cannot be sent in an HTTP header");
    }
    Ok(key)
}

/// Parses a keys file; an error is (line number from 1, reason).
pub(super) fn parse_keys_file(text: &str) -> Result<Vec<ApiKey>, (usize, String)> {
    let mut keys: Vec<(usize, ApiKey)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = parse_line(line).map_err(|reason| (number, reason))?;
        if let Some((first, _)) = keys.iter().find(|(_, k)| k.digest == key.digest) {
            return Err((
                number,
                format!("this key is already on line {first}; a key belongs to one id"),
            ));
        }
        keys.push((number, key));
    }
    Ok(keys.into_iter().map(|(_, k)| k).collect())
}

fn parse_line(line: &str) -> Result<ApiKey, String> {
    const SHAPE: &str = "expected `id:key` or `id:key:scope1,scope2`";
    // Scopes may contain `:` (`files:write`), so everything after the key is the scope list.
    let fields: Vec<&str> = line.splitn(3, ':').map(str::trim).collect();
    let (id, key, scopes) = match fields.as_slice() {
        [id, key] => (*id, *key, ""),
        [id, key, scopes] => (*id, *key, *scopes),
        _ => return Err(format!("{SHAPE}: no `:` on this line")),
    };
    if id.is_empty() {
        return Err(format!("{SHAPE}: the id is empty"));
    }
    if id.chars().any(char::is_control) {
        return Err("the id contains control characters".into());
    }
    let key = check_key(key).map_err(|reason| format!("the key {reason}"))?;
    let mut list = Vec::new();
    for scope in scopes.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !scope
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        {
            return Err(format!(
                "scope {scope:?} has characters a scope may not have (RFC 6749 §3.3)"
            ));
        }
        if !list.iter().any(|s| s == scope) {
            list.push(scope.to_owned());
        }
    }
    Ok(ApiKey::new(id, key, list))
}

/// The key whose digest equals the presented key's, comparing with every key in constant time.
pub(super) fn find<'a>(keys: &'a [ApiKey], presented: &str) -> Option<&'a ApiKey> {
    let presented = digest(presented);
    let mut found = subtle::Choice::from(0);
    let mut index = 0u64;
    for (i, key) in keys.iter().enumerate() {
        let hit = key.digest.ct_eq(&presented) & !found;
        index.conditional_assign(&(i as u64), hit);
        found |= hit;
    }
    bool::from(found).then(|| &keys[index as usize])
}
