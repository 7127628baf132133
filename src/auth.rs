//! Authentication of MCP requests, configured rather than coded: API keys, HS256 JWTs and
//! OAuth 2.1 access tokens from an identity provider.
//!
//! [`AuthConfig::from_sources`] turns the raw settings (`--api-key`, `--api-keys-file`,
//! `--jwt-secret`, `--jwt-issuer`, `--jwt-audience`, `--oauth-issuer`, `--jwks-url`,
//! `--oauth-audience`, `--public-url`) into an [`AuthConfig`]; [`AuthConfig::authenticate`]
//! turns a request's headers into the [`Caller`] that tool access rules
//! ([`crate::mcp::service::allowed`]) and plugins (`ctx.caller()`) see. A failure is an
//! [`AuthError`], answered with `401` and a `WWW-Authenticate: Bearer` challenge (RFC 6750),
//! which names the Protected Resource Metadata (RFC 9728) when OAuth is on.
//!
//! Credentials are read from `x-api-key: KEY` or `Authorization: Bearer CREDENTIAL`. When both
//! are present `x-api-key` wins, so a platform that puts its own token in `Authorization` (Cloud
//! Run IAM, an API gateway) can sit in front. A bearer credential shaped like a JWT (three
//! base64url parts) is verified as a JWT when a JWT method is configured; anything else is an
//! API key. The header's `alg` picks the JWT method: HMAC algorithms (and `none`) go to the
//! HS256 secret, asymmetric ones to the OAuth issuer's keys. Each method then accepts only its
//! own algorithms, so a token cannot be verified with the other method's key (no algorithm
//! confusion).
//!
//! A caller's id says how it authenticated: `key:<id>` for an API key (the keys file's id, or
//! `key:api-key` for `--api-key`), `jwt:<sub>` for an HS256 JWT, `oauth:<sub>` for an OAuth
//! access token. The name spaces never meet, so a token whose `sub` is `alice` is not the caller
//! that API key `alice` authenticates: it cannot use that caller's sessions or `requestState`.
//! This id is what sessions are bound to, what plugins see as `ctx.caller().id` and what the
//! logs show.
//!
//! Secrets never leave this module: keys are kept only as SHA-256 digests and compared in
//! constant time, `Debug` redacts the JWT secret, and errors name files and lines, never keys
//! or tokens.
//!
//! - `keys`: API keys, the keys file format and the constant-time lookup.
//! - `jwt`: HS256 verification and the claims we read.
//! - `oauth`: OAuth access tokens (RS/PS/ES/EdDSA) and the resource server settings.
//! - `jwks`: the identity provider's keys: discovery, fetch, cache, rotation.
//! - `challenge`: the `WWW-Authenticate` challenges of 401 and 403.
//! - `claims`: claim shapes both token checks read.

mod caller;
mod challenge;
mod claims;
mod jwks;
mod jwt;
mod keys;
mod oauth;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

pub(crate) use caller::Caller;
pub(crate) use jwt::JwtConfig;
use keys::ApiKey;
pub(crate) use oauth::OAuthConfig;

/// The identity of the single key given with `--api-key` / `FASTMCP_API_KEY` / `API_KEY`
/// (its caller is `key:api-key`).
pub(crate) const SINGLE_KEY_ID: &str = "api-key";
/// The prefix of the caller id of a request authenticated by an API key: `key:alice`.
pub(crate) const API_KEY_CALLER_PREFIX: &str = "key:";
/// The prefix of the caller id of a request authenticated by a JWT: `jwt:<sub>`.
pub(crate) const JWT_CALLER_PREFIX: &str = "jwt:";
/// How far `exp` and `nbf` may be off, for clocks that disagree a little.
pub(crate) const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// HS256 needs a key at least as long as its hash output (RFC 7518 §3.2).
pub(crate) const MIN_JWT_SECRET_BYTES: usize = 32;
/// The `x-api-key` request header.
pub(crate) const API_KEY_HEADER: &str = "x-api-key";

/// The raw authentication settings, each already picked from its flag or variable.
#[derive(Clone, Default)]
pub(crate) struct AuthSources {
    /// `--api-key`, `FASTMCP_API_KEY`, `API_KEY`: one key, identity [`SINGLE_KEY_ID`].
    pub(crate) api_key: Option<String>,
    /// `--api-keys-file`, `FASTMCP_API_KEYS_FILE`: `id:key[:scope,scope]` per line.
    pub(crate) api_keys_file: Option<PathBuf>,
    /// `--jwt-secret`, `FASTMCP_JWT_SECRET`, `JWT_SECRET`: the HS256 secret, as UTF-8 bytes.
    pub(crate) jwt_secret: Option<String>,
    /// `--jwt-issuer`, `FASTMCP_JWT_ISSUER`: the required `iss`.
    pub(crate) jwt_issuer: Option<String>,
    /// `--jwt-audience`, `FASTMCP_JWT_AUDIENCE`: a value `aud` must contain.
    pub(crate) jwt_audience: Option<String>,
    /// `--oauth-issuer`, `FASTMCP_OAUTH_ISSUER`: the identity provider tokens come from.
    pub(crate) oauth_issuer: Option<String>,
    /// `--jwks-url`, `FASTMCP_JWKS_URL`: its key set, when not found through its metadata.
    pub(crate) jwks_url: Option<String>,
    /// `--oauth-audience`, `FASTMCP_OAUTH_AUDIENCE`: this server's resource URL.
    pub(crate) oauth_audience: Option<String>,
    /// `--public-url`, `FASTMCP_PUBLIC_URL`: where clients reach this server.
    pub(crate) public_url: Option<String>,
    /// The MCP endpoint's path, appended to the public URL to name the resource.
    pub(crate) endpoint: String,
}

impl fmt::Debug for AuthSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("AuthSources")
            .field("api_key", &redact(&self.api_key))
            .field("api_keys_file", &self.api_keys_file)
            .field("jwt_secret", &redact(&self.jwt_secret))
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("oauth_issuer", &self.oauth_issuer)
            .field("jwks_url", &self.jwks_url)
            .field("oauth_audience", &self.oauth_audience)
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// Why the authentication settings cannot be used. Never carries a key or secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// `--api-key` (or its variable) is empty or cannot be sent in a header.
    #[error(
        "the API key (--api-key, FASTMCP_API_KEY or API_KEY) {0}; use printable ASCII without spaces"
    )]
    ApiKey(&'static str),
    /// The keys file could not be read.
    #[error("cannot read the API keys file {}: {source}", path.display())]
    ReadKeysFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line of the keys file is wrong.
    #[error("{}:{line}: {reason}", path.display())]
    KeysFileLine {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What is wrong, and what would be right.
        reason: String,
    },
    /// The keys file has no keys: serving it would silently turn authentication off.
    #[error("the API keys file {} has no keys (expected `id:key` lines)", path.display())]
    EmptyKeysFile {
        /// The file.
        path: PathBuf,
    },
    /// The JWT secret is empty or too short for HS256.
    #[error(
        "the JWT secret (--jwt-secret, FASTMCP_JWT_SECRET or JWT_SECRET) is {0} bytes; HS256 needs at least {MIN_JWT_SECRET_BYTES} (RFC 7518 §3.2), e.g. `openssl rand -base64 48`"
    )]
    ShortJwtSecret(usize),
    /// An issuer or audience was given without a JWT secret, or is empty.
    #[error("{option} {reason}")]
    JwtOption {
        /// `--jwt-issuer` or `--jwt-audience`.
        option: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// An OAuth setting is missing, empty or not a usable URL.
    #[error("{option} {reason}")]
    OAuthOption {
        /// `--oauth-issuer`, `--jwks-url`, `--oauth-audience` or `--public-url`.
        option: &'static str,
        /// What is wrong, and what would be right.
        reason: String,
    },
}

/// Who may call, as configured. The default (and `from_sources` with nothing set) is disabled:
/// every request is anonymous.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct AuthConfig {
    /// Accepted API keys (as digests), in the order configured.
    keys: Vec<ApiKey>,
    /// JWT verification, when a secret is configured.
    jwt: Option<JwtConfig>,
    /// OAuth access token verification, when an issuer is configured.
    oauth: Option<OAuthConfig>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("api_keys", &self.keys)
            .field("jwt", &self.jwt)
            .field("oauth", &self.oauth)
            .finish()
    }
}

impl AuthConfig {
    /// Builds the configuration from the raw settings, reading the keys file if one is given.
    pub(crate) fn from_sources(sources: AuthSources) -> Result<AuthConfig, AuthConfigError> {
        let oauth = oauth::from_sources(&sources)?;
        let mut keys = Vec::new();
        if let Some(key) = &sources.api_key {
            let key = keys::check_key(key).map_err(AuthConfigError::ApiKey)?;
            keys.push(ApiKey::new(SINGLE_KEY_ID, key, Vec::new()));
        }
        if let Some(path) = sources.api_keys_file {
            let text =
                std::fs::read_to_string(&path).map_err(|source| AuthConfigError::ReadKeysFile {
                    path: path.clone(),
                    source,
                })?;
            let from_file = keys::parse_keys_file(&text).map_err(|(line, reason)| {
                AuthConfigError::KeysFileLine {
                    path: path.clone(),
                    line,
                    reason,
                }
            })?;
            if from_file.is_empty() {
                return Err(AuthConfigError::EmptyKeysFile { path });
            }
            keys.extend(from_file);
        }
        let option = |name: &'static str, value: Option<String>| match value {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Err(AuthConfigError::JwtOption {
                option: name,
                reason: "is empty",
            }),
            Some(v) => Ok(Some(v.trim().to_owned())),
        };
        let issuer = option("--jwt-issuer", sources.jwt_issuer)?;
        let audience = option("--jwt-audience", sources.jwt_audience)?;
        let jwt = match sources.jwt_secret {
            Some(secret) => {
                let secret = secret.trim().as_bytes().to_vec();
                if secret.len() < MIN_JWT_SECRET_BYTES {
                    return Err(AuthConfigError::ShortJwtSecret(secret.len()));
                }
                Some(JwtConfig {
                    secret,
                    issuer,
                    audience,
                    leeway: DEFAULT_LEEWAY,
                })
            }
            None => {
                let without = |option| AuthConfigError::JwtOption {
                    option,
                    reason: "needs --jwt-secret (FASTMCP_JWT_SECRET or JWT_SECRET)",
                };
                if issuer.is_some() {
                    return Err(without("--jwt-issuer"));
                }
                if audience.is_some() {
                    return Err(without("--jwt-audience"));
                }
                None
            }
        };
        Ok(AuthConfig { keys, jwt, oauth })
    }

    /// Whether requests must authenticate at all.
    pub(crate) fn is_enabled(&self) -> bool {
        !self.keys.is_empty() || self.jwt.is_some() || self.oauth.is_some()
    }

    /// The OAuth resource server settings, when an issuer is configured.
    pub(crate) fn oauth(&self) -> Option<&OAuthConfig> {
        self.oauth.as_ref()
    }

    /// One line for the startup log: which kinds are on, the key callers (`key:<id>`, as the
    /// logs of their requests name them), never the secrets.
    pub(crate) fn describe(&self) -> String {
        if !self.is_enabled() {
            return "off (every request is anonymous)".into();
        }
        let mut parts = Vec::new();
        if !self.keys.is_empty() {
            let mut ids: Vec<&str> = self.keys.iter().map(|k| k.caller.as_str()).collect();
            ids.dedup();
            parts.push(format!(
                "{} API key(s) (ids: {})",
                self.keys.len(),
                ids.join(", ")
            ));
        }
        if let Some(j) = &self.jwt {
            let mut s = "JWT HS256".to_string();
            if let Some(i) = &j.issuer {
                s.push_str(&format!(", issuer {i:?}"));
            }
            if let Some(a) = &j.audience {
                s.push_str(&format!(", audience {a:?}"));
            }
            parts.push(s);
        }
        if let Some(o) = &self.oauth {
            parts.push(format!(
                "OAuth issuer {:?}, audience {:?}",
                o.issuer(),
                o.audience()
            ));
        }
        parts.join("; ")
    }

    /// The caller a request authenticates as: `Ok(None)` when authentication is off, an error
    /// when it is on and the request has no valid credential. Awaits only for an OAuth token
    /// whose key must be fetched first.
    pub(crate) async fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<Caller>, AuthError> {
        match self.classify(headers, SystemTime::now())? {
            Step::Done(caller) => Ok(caller),
            Step::OAuth(oauth, token) => oauth.verify(token).await.map(Some),
        }
    }

    /// [`AuthConfig::authenticate`] at a given time for API keys and HS256 JWTs (tests use
    /// fixed clocks); an OAuth token is refused here.
    #[cfg(test)]
    pub(crate) fn authenticate_at(
        &self,
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Result<Option<Caller>, AuthError> {
        match self.classify(headers, now)? {
            Step::Done(caller) => Ok(caller),
            Step::OAuth(..) => Err(AuthError::Algorithm),
        }
    }

    /// Checks what can be checked at once; an OAuth token is left to [`OAuthConfig::verify`].
    fn classify<'a>(
        &'a self,
        headers: &'a HeaderMap,
        now: SystemTime,
    ) -> Result<Step<'a>, AuthError> {
        if !self.is_enabled() {
            return Ok(Step::Done(None));
        }
        let token = match credential(headers)? {
            Credential::ApiKey(key) => return self.check_key(key).map(|c| Step::Done(Some(c))),
            Credential::Bearer(token) => token,
        };
        let jwt_on = self.jwt.is_some() || self.oauth.is_some();
        if !jwt_on || !jwt::looks_like_jwt(token) {
            return self.check_key(token).map(|c| Step::Done(Some(c)));
        }
        let alg = oauth::header_alg(token).ok_or(AuthError::Malformed)?;
        let symmetric = alg.starts_with("HS") || alg.eq_ignore_ascii_case("none");
        match (&self.jwt, &self.oauth) {
            (_, Some(oauth)) if !symmetric => Ok(Step::OAuth(oauth, token)),
            (Some(jwt), _) => jwt.verify(token, now).map(|c| Step::Done(Some(c))),
            // OAuth only, and an HMAC token: there is no secret to check it with.
            (None, _) => Err(AuthError::Algorithm),
        }
    }

    fn check_key(&self, presented: &str) -> Result<Caller, AuthError> {
        if self.keys.is_empty() {
            // JWT-only configuration and a credential that is not a JWT.
            return Err(AuthError::Malformed);
        }
        keys::find(&self.keys, presented)
            .map(|k| Caller {
                id: k.caller.clone(),
                scopes: k.scopes.clone(),
            })
            .ok_or(AuthError::UnknownKey)
    }
}

/// Axum middleware for the routes that need credentials (the MCP endpoint, and `/metrics` with
/// `--metrics-auth`): answers 401 when authentication is on and the request has no valid
/// credential; otherwise runs the route with the [`Caller`], if any, in the request's extensions
/// (`parts.extensions.get::<Caller>()`).
///
/// ```text
/// .route(endpoint, get(mcp::get).post(mcp::post).delete(mcp::delete)
///     .route_layer(axum::middleware::from_fn_with_state(auth, crate::auth::require_auth)))
/// ```
pub(crate) async fn require_auth(
    State(auth): State<Arc<AuthConfig>>,
    mut request: Request,
    next: Next,
) -> Response {
    match auth.authenticate(request.headers()).await {
        Ok(caller) => {
            if let Some(caller) = caller {
                request.extensions_mut().insert(caller);
            }
            next.run(request).await
        }
        Err(e) => auth.refuse(e),
    }
}

/// What [`AuthConfig::classify`] decided.
enum Step<'a> {
    Done(Option<Caller>),
    OAuth(&'a OAuthConfig, &'a str),
}

/// Where a request's credential came from.
enum Credential<'a> {
    ApiKey(&'a str),
    Bearer(&'a str),
}

/// `x-api-key` if present, else `Authorization: Bearer`; other schemes count as none.
fn credential(headers: &HeaderMap) -> Result<Credential<'_>, AuthError> {
    if let Some(v) = headers.get(API_KEY_HEADER) {
        let key = v.to_str().map_err(|_| AuthError::UnknownKey)?.trim();
        return if key.is_empty() {
            Err(AuthError::Missing)
        } else {
            Ok(Credential::ApiKey(key))
        };
    }
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Err(AuthError::Missing);
    };
    let v = v.to_str().map_err(|_| AuthError::Malformed)?.trim();
    let (scheme, token) = v.split_once([' ', '\t']).unwrap_or((v, ""));
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(Credential::Bearer(token))
}

/// Why a request did not authenticate. Every variant is a `401`; the client learns only
/// whether a credential was missing or bad (RFC 6750 `invalid_token`), the log learns why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthError {
    /// No `x-api-key`, and no `Authorization: Bearer`.
    #[error("no credentials (x-api-key or Authorization: Bearer)")]
    Missing,
    /// An API key that matches none configured.
    #[error("unknown API key")]
    UnknownKey,
    /// A bearer token that is not a well-formed JWT (or not a JWT when only JWTs are accepted).
    #[error("malformed token")]
    Malformed,
    /// A JWT signed with an algorithm its method does not accept (`none` included): HS256 for
    /// `--jwt-secret`, `ALGORITHMS` for OAuth, and the key set's `alg` for its key.
    #[error("token algorithm is not accepted")]
    Algorithm,
    /// A token that names its own key or key location (`jku`, `x5u`, `jwk`, `x5c`).
    #[error("token header names its own key ({0}); keys come from the issuer only")]
    ForeignKey(&'static str),
    /// An OAuth token whose `kid` is in none of the issuer's current keys.
    #[error("token signed with a key the issuer does not publish (unknown kid)")]
    UnknownSigningKey,
    /// The issuer's keys could not be fetched yet.
    #[error("the identity provider's signing keys are unavailable")]
    KeysUnavailable,
    /// A JWT whose signature does not verify with the configured secret.
    #[error("token signature does not verify")]
    Signature,
    /// A JWT past its `exp` (plus leeway).
    #[error("token expired")]
    Expired,
    /// A JWT before its `nbf` (minus leeway).
    #[error("token not valid yet (nbf)")]
    NotYetValid,
    /// A JWT without a claim we require (`exp`, `sub`).
    #[error("token has no {0} claim")]
    MissingClaim(&'static str),
    /// A JWT whose `iss` is not `--jwt-issuer` (or `--oauth-issuer`).
    #[error("token issuer does not match the configured issuer")]
    Issuer,
    /// A JWT whose `aud` does not contain `--jwt-audience` (or has one while none is set), or
    /// an OAuth token whose `aud` does not name this resource.
    #[error("token audience does not match the configured audience")]
    Audience,
}
