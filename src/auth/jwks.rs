//! The identity provider's signing keys: found, fetched, cached and refreshed.
//!
//! Keys come only from the configured issuer: its metadata (RFC 8414
//! `/.well-known/oauth-authorization-server`, then OpenID Connect
//! `/.well-known/openid-configuration`) names the `jwks_uri`, or `--jwks-url` names it directly.
//! A token never chooses where keys come from (`jku`, `x5u`, `jwk` and `x5c` are refused by
//! [`super::oauth`]).
//!
//! The set is cached for [`KEY_TTL`]. A token whose `kid` is not in the set (the provider rotated
//! its keys), or a set older than the TTL, triggers a fetch, but never more than one every
//! [`MIN_REFETCH`]: a flood of tokens with made-up `kid`s costs the provider one request per
//! interval. Fetches run on the async runtime with timeouts and a body cap, one at a time; a
//! request that needs a fetch waits for it, every other request reads the cached set. A fetch
//! that fails keeps the keys already held (a provider outage does not lock callers out) and is
//! logged at WARN; with no keys at all, tokens are refused with 401 until a fetch succeeds.

use std::str::FromStr;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// How long a fetched key set is used before it is fetched again.
pub(crate) const KEY_TTL: Duration = Duration::from_secs(10 * 60);
/// The shortest time between two fetches, whatever tokens arrive.
pub(crate) const MIN_REFETCH: Duration = Duration::from_secs(10);
/// Time limit of one HTTP request to the provider (connect, send, read the whole body).
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Time limit of a whole fetch (metadata and key set), so requests waiting for it wait no longer.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(10);
/// Larger metadata or key set documents are refused: real ones are a few KiB.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Why the keys could not be fetched. Carries URLs and reasons, never a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JwksError {
    /// The request failed: connection refused, timeout, TLS.
    #[error("cannot fetch {url}: {reason}")]
    Fetch {
        /// What was fetched.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The answer was not 200.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// What was fetched.
        url: String,
        /// The status.
        status: u16,
    },
    /// The body is larger than the document cap (256 KiB).
    #[error("{url} sent more than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge {
        /// What was fetched.
        url: String,
    },
    /// The body is not the JSON document expected.
    #[error("{url} is not a valid {what}: {reason}")]
    NotJson {
        /// What was fetched.
        url: String,
        /// "JWK set" or "authorization server metadata".
        what: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// The key set has no key we can verify signatures with.
    #[error(
        "{url} has no usable signing key (RSA, EC P-256/P-384 or Ed25519 public keys with use \"sig\")"
    )]
    NoUsableKey {
        /// The key set.
        url: String,
    },
    /// The metadata names another issuer (RFC 8414 §3.3 says not to use it).
    #[error("{url} names issuer {found:?}, not --oauth-issuer {expected:?}")]
    IssuerMismatch {
        /// The metadata document.
        url: String,
        /// `issuer` in the document.
        found: String,
        /// The configured issuer.
        expected: String,
    },
    /// Neither metadata document could be used.
    #[error("no authorization server metadata for {issuer}: {first}; {second}")]
    NoMetadata {
        /// The configured issuer.
        issuer: String,
        /// Why the RFC 8414 document failed.
        first: Box<JwksError>,
        /// Why the OpenID Connect document failed.
        second: Box<JwksError>,
    },
}

/// One verification key of the set.
pub(crate) struct Key {
    /// `kid`, matched against the token header's.
    pub(crate) kid: Option<String>,
    /// The key's `alg`, when the set names one: then only that algorithm may use it.
    pub(crate) alg: Option<Algorithm>,
    pub(crate) key: DecodingKey,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish()
    }
}

/// The keys fetched at one time.
#[derive(Default)]
struct KeySet {
    keys: Vec<Arc<Key>>,
    fetched: Option<Instant>,
}

/// Where the set comes from and when it was last asked for; held during a fetch.
struct FetchState {
    jwks_uri: Option<String>,
    last_attempt: Option<Instant>,
}

/// The issuer's keys, shared by every request.
pub(crate) struct KeyStore {
    issuer: String,
    set: RwLock<Arc<KeySet>>,
    fetch: tokio::sync::Mutex<FetchState>,
    /// Built on the first fetch, so startup pays nothing for TLS setup.
    client: OnceLock<reqwest::Client>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.current();
        f.debug_struct("KeyStore")
            .field("issuer", &self.issuer)
            .field("keys", &set.keys.len())
            .finish()
    }
}

/// What a key lookup found.
pub(crate) enum Lookup {
    Found(Arc<Key>),
    /// The set has keys, none with this `kid`.
    Unknown,
    /// No keys at all: the provider has not been reached yet.
    Unavailable,
}

impl KeyStore {
    /// A store for `issuer`'s keys, at `jwks_url` when given, else found through its metadata.
    pub(crate) fn new(issuer: String, jwks_url: Option<String>) -> KeyStore {
        KeyStore {
            issuer,
            set: RwLock::new(Arc::new(KeySet::default())),
            fetch: tokio::sync::Mutex::new(FetchState {
                jwks_uri: jwks_url,
                last_attempt: None,
            }),
            client: OnceLock::new(),
        }
    }

    fn current(&self) -> Arc<KeySet> {
        self.set.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The key for a token's `kid` (or the only key, for a token without one), fetching the
    /// set first when it is missing, stale or lacks this `kid` and a fetch is due.
    pub(crate) async fn key(&self, kid: Option<&str>) -> Lookup {
        let set = self.current();
        let fresh = set.fetched.is_some_and(|t| t.elapsed() < KEY_TTL);
        if fresh && let Some(k) = find(&set, kid) {
            return Lookup::Found(k);
        }
        self.refresh().await;
        let set = self.current();
        match find(&set, kid) {
            Some(k) => Lookup::Found(k),
            None if set.keys.is_empty() => Lookup::Unavailable,
            None => Lookup::Unknown,
        }
    }

    /// Fetches the set unless a fetch happened less than [`MIN_REFETCH`] ago. Returns whether
    /// the store holds keys afterwards.
    pub(crate) async fn refresh(&self) -> bool {
        let mut state = self.fetch.lock().await;
        if state
            .last_attempt
            .is_some_and(|t| t.elapsed() < MIN_REFETCH)
        {
            return !self.current().keys.is_empty();
        }
        state.last_attempt = Some(Instant::now());
        let fetched = tokio::time::timeout(REFRESH_TIMEOUT, self.fetch_keys(&mut state)).await;
        let fetched = fetched.unwrap_or_else(|_| {
            Err(JwksError::Fetch {
                url: self.issuer.clone(),
                reason: format!("no key set within {} s", REFRESH_TIMEOUT.as_secs()),
            })
        });
        match fetched {
            Ok(keys) => {
                tracing::info!(issuer = %self.issuer, keys = keys.len(), "signing keys fetched");
                let set = Arc::new(KeySet {
                    keys,
                    fetched: Some(Instant::now()),
                });
                *self.set.write().unwrap_or_else(|e| e.into_inner()) = set;
                true
            }
            Err(e) => {
                let held = self.current().keys.len();
                tracing::warn!(
                    issuer = %self.issuer,
                    error = %e,
                    keys_held = held,
                    "cannot fetch the identity provider's signing keys"
                );
                held > 0
            }
        }
    }

    async fn fetch_keys(&self, state: &mut FetchState) -> Result<Vec<Arc<Key>>, JwksError> {
        let uri = match &state.jwks_uri {
            Some(u) => u.clone(),
            None => {
                let u = self.discover().await?;
                state.jwks_uri = Some(u.clone());
                u
            }
        };
        let body = self.get(&uri).await?;
        parse_jwks(&uri, &body)
    }

    /// The `jwks_uri` of the issuer's metadata: RFC 8414 first, then OpenID Connect.
    async fn discover(&self) -> Result<String, JwksError> {
        let [rfc8414, oidc] = metadata_urls(&self.issuer);
        let first = match self.metadata(&rfc8414).await {
            Ok(u) => return Ok(u),
            Err(e) => e,
        };
        match self.metadata(&oidc).await {
            Ok(u) => Ok(u),
            // A metadata document that names another issuer is the error worth reporting.
            Err(e @ JwksError::IssuerMismatch { .. }) => Err(e),
            Err(second) => Err(JwksError::NoMetadata {
                issuer: self.issuer.clone(),
                first: Box::new(first),
                second: Box::new(second),
            }),
        }
    }

    async fn metadata(&self, url: &str) -> Result<String, JwksError> {
        #[derive(Deserialize)]
        struct Metadata {
            issuer: String,
            jwks_uri: String,
        }
        let body = self.get(url).await?;
        let m: Metadata = serde_json::from_slice(&body).map_err(|e| JwksError::NotJson {
            url: url.to_owned(),
            what: "authorization server metadata",
            reason: e.to_string(),
        })?;
        if m.issuer != self.issuer {
            return Err(JwksError::IssuerMismatch {
                url: url.to_owned(),
                found: m.issuer,
                expected: self.issuer.clone(),
            });
        }
        Ok(m.jwks_uri)
    }

    /// GETs `url` with the fetch timeout and body cap; redirects are not followed.
    async fn get(&self, url: &str) -> Result<Vec<u8>, JwksError> {
        let failed = |e: reqwest::Error| JwksError::Fetch {
            url: url.to_owned(),
            reason: error_chain(&e),
        };
        let client = self.client.get_or_init(|| {
            reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .connect_timeout(FETCH_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("fastmcp/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_default()
        });
        let mut response = client
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(failed)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(JwksError::Status {
                url: url.to_owned(),
                status: response.status().as_u16(),
            });
        }
        let too_large = || JwksError::TooLarge {
            url: url.to_owned(),
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The error and its causes on one line ("error sending request: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

fn find(set: &KeySet, kid: Option<&str>) -> Option<Arc<Key>> {
    match kid {
        Some(kid) => set
            .keys
            .iter()
            .find(|k| k.kid.as_deref() == Some(kid))
            .cloned(),
        // Without a `kid` only an unambiguous set will do.
        None if set.keys.len() == 1 => set.keys.first().cloned(),
        None => None,
    }
}

/// The RFC 8414 and OpenID Connect metadata URLs of `issuer`. RFC 8414 puts the well-known
/// segment before the issuer's path; OpenID Connect appends it.
pub(crate) fn metadata_urls(issuer: &str) -> [String; 2] {
    let trimmed = issuer.trim_end_matches('/');
    let oidc = format!("{trimmed}/.well-known/openid-configuration");
    let rfc8414 = match reqwest::Url::parse(trimmed) {
        Ok(u) => {
            let path = u.path().trim_end_matches('/');
            format!(
                "{}/.well-known/oauth-authorization-server{path}",
                u.origin().ascii_serialization()
            )
        }
        Err(_) => format!("{trimmed}/.well-known/oauth-authorization-server"),
    };
    [rfc8414, oidc]
}

/// The verification keys of a JWK set document. Symmetric (`oct`) keys, encryption keys and
/// keys of unsupported types are skipped: a shared secret published in a key set would let
/// anyone sign tokens.
pub(crate) fn parse_jwks(url: &str, body: &[u8]) -> Result<Vec<Arc<Key>>, JwksError> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let raw: RawSet = serde_json::from_slice(body).map_err(|e| JwksError::NotJson {
        url: url.to_owned(),
        what: "JWK set",
        reason: e.to_string(),
    })?;
    let mut keys = Vec::new();
    for value in raw.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        if let Some(k) = usable(&jwk) {
            keys.push(Arc::new(k));
        }
    }
    if keys.is_empty() {
        return Err(JwksError::NoUsableKey {
            url: url.to_owned(),
        });
    }
    Ok(keys)
}

fn usable(jwk: &Jwk) -> Option<Key> {
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    if !matches!(
        jwk.algorithm,
        AlgorithmParameters::RSA(_)
            | AlgorithmParameters::EllipticCurve(_)
            | AlgorithmParameters::OctetKeyPair(_)
    ) {
        return None;
    }
    let alg = match &jwk.common.key_algorithm {
        // A key for an algorithm we do not verify with is no key for us.
        Some(a) => Some(Algorithm::from_str(&a.to_string()).ok()?),
        None => None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    if alg.is_some_and(|a| a.family() != key.family()) {
        return None;
    }
    Some(Key {
        kid: jwk.common.key_id.clone(),
        alg,
        key,
    })
}

#[cfg(test)]
mod tests;
