//! Authentication of MCP requests, configured rather than coded: API keys and HS256 JWTs.
//!
//! [`AuthConfig::from_sources`] turns the raw settings (`--api-key`, `--api-keys-file`,
//! `--jwt-secret`, `--jwt-issuer`, `--jwt-audience`) into an [`AuthConfig`];
//! [`AuthConfig::authenticate`] turns a request's headers into the [`Caller`] that tool access
//! rules ([`crate::mcp::service::allowed`]) and plugins (`ctx.caller()`) see. A failure is an
//! [`AuthError`], answered with `401` and a `WWW-Authenticate: Bearer` challenge (RFC 6750).
//!
//! Credentials are read from `x-api-key: KEY` or `Authorization: Bearer CREDENTIAL`. When both
//! are present `x-api-key` wins, so a platform that puts its own token in `Authorization` (Cloud
//! Run IAM, an API gateway) can sit in front. A bearer credential shaped like a JWT (three
//! base64url parts) is verified as a JWT when a JWT secret is configured; anything else is an
//! API key.
//!
//! A caller's id says how it authenticated: `key:<id>` for an API key (the keys file's id, or
//! `key:api-key` for `--api-key`), `jwt:<sub>` for a JWT. The two name spaces never meet, so a
//! token whose `sub` is `alice` is not the caller that API key `alice` authenticates: it cannot
//! use that caller's sessions or `requestState`. This id is what sessions are bound to, what
//! plugins see as `ctx.caller().id` and what the logs show.
//!
//! Secrets never leave this module: keys are kept only as SHA-256 digests and compared in
//! constant time, `Debug` redacts the JWT secret, and errors name files and lines, never keys.
//!
//! - `keys`: API keys, the keys file format and the constant-time lookup.
//! - `jwt`: HS256 verification and the claims we read.

mod jwt;
mod keys;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::mcp::Caller;
pub use jwt::JwtConfig;
use keys::ApiKey;

/// The identity of the single key given with `--api-key` / `FASTMCP_API_KEY` / `API_KEY`
/// (its caller is `key:api-key`).
pub const SINGLE_KEY_ID: &str = "api-key";
/// The prefix of the caller id of a request authenticated by an API key: `key:alice`.
pub const API_KEY_CALLER_PREFIX: &str = "key:";
/// The prefix of the caller id of a request authenticated by a JWT: `jwt:<sub>`.
pub const JWT_CALLER_PREFIX: &str = "jwt:";
/// How far `exp` and `nbf` may be off, for clocks that disagree a little.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// HS256 needs a key at least as long as its hash output (RFC 7518 §3.2).
pub const MIN_JWT_SECRET_BYTES: usize = 32;
/// The `x-api-key` request header.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The raw authentication settings, each already picked from its flag or variable.
#[derive(Clone, Default)]
pub struct AuthSources {
    /// `--api-key`, `FASTMCP_API_KEY`, `API_KEY`: one key, identity [`SINGLE_KEY_ID`].
    pub api_key: Option<String>,
    /// `--api-keys-file`, `FASTMCP_API_KEYS_FILE`: `id:key[:scope,scope]` per line.
    pub api_keys_file: Option<PathBuf>,
    /// `--jwt-secret`, `FASTMCP_JWT_SECRET`, `JWT_SECRET`: the HS256 secret, as UTF-8 bytes.
    pub jwt_secret: Option<String>,
    /// `--jwt-issuer`, `FASTMCP_JWT_ISSUER`: the required `iss`.
    pub jwt_issuer: Option<String>,
    /// `--jwt-audience`, `FASTMCP_JWT_AUDIENCE`: a value `aud` must contain.
    pub jwt_audience: Option<String>,
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
}

/// Who may call, as configured. The default (and `from_sources` with nothing set) is disabled:
/// every request is anonymous.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    /// Accepted API keys (as digests), in the order configured.
    keys: Vec<ApiKey>,
    /// JWT verification, when a secret is configured.
    jwt: Option<JwtConfig>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("api_keys", &self.keys)
            .field("jwt", &self.jwt)
            .finish()
    }
}

impl AuthConfig {
    /// Builds the configuration from the raw settings, reading the keys file if one is given.
    pub fn from_sources(sources: AuthSources) -> Result<AuthConfig, AuthConfigError> {
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
        Ok(AuthConfig { keys, jwt })
    }

    /// Whether requests must authenticate at all.
    pub fn is_enabled(&self) -> bool {
        !self.keys.is_empty() || self.jwt.is_some()
    }

    /// One line for the startup log: which kinds are on, the key callers (`key:<id>`, as the
    /// logs of their requests name them), never the secrets.
    pub fn describe(&self) -> String {
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
        parts.join("; ")
    }

    /// The caller a request authenticates as: `Ok(None)` when authentication is off, an error
    /// when it is on and the request has no valid credential.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Caller>, AuthError> {
        self.authenticate_at(headers, SystemTime::now())
    }

    /// [`AuthConfig::authenticate`] at a given time (tests use fixed clocks).
    pub(crate) fn authenticate_at(
        &self,
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Result<Option<Caller>, AuthError> {
        if !self.is_enabled() {
            return Ok(None);
        }
        let caller = match credential(headers)? {
            Credential::ApiKey(key) => self.check_key(key)?,
            Credential::Bearer(token) => match &self.jwt {
                Some(jwt) if jwt::looks_like_jwt(token) => jwt.verify(token, now)?,
                _ => self.check_key(token)?,
            },
        };
        Ok(Some(caller))
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
pub async fn require_auth(
    State(auth): State<Arc<AuthConfig>>,
    mut request: Request,
    next: Next,
) -> Response {
    match auth.authenticate(request.headers()) {
        Ok(caller) => {
            if let Some(caller) = caller {
                request.extensions_mut().insert(caller);
            }
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
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
pub enum AuthError {
    /// No `x-api-key`, and no `Authorization: Bearer`.
    #[error("no credentials (x-api-key or Authorization: Bearer)")]
    Missing,
    /// An API key that matches none configured.
    #[error("unknown API key")]
    UnknownKey,
    /// A bearer token that is not a well-formed JWT (or not a JWT when only JWTs are accepted).
    #[error("malformed token")]
    Malformed,
    /// A JWT signed with anything but HS256 (`none` included).
    #[error("token algorithm is not HS256")]
    Algorithm,
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
    /// A JWT whose `iss` is not `--jwt-issuer`.
    #[error("token issuer does not match --jwt-issuer")]
    Issuer,
    /// A JWT whose `aud` does not contain `--jwt-audience` (or has one while none is set).
    #[error("token audience does not match --jwt-audience")]
    Audience,
}

impl AuthError {
    /// The `WWW-Authenticate` challenge: `invalid_token` only when a credential was presented.
    pub fn challenge(&self) -> &'static str {
        match self {
            AuthError::Missing => r#"Bearer realm="fastmcp""#,
            _ => r#"Bearer realm="fastmcp", error="invalid_token""#,
        }
    }

    /// The message in the JSON-RPC error body: no more than the challenge says.
    pub fn public_message(&self) -> &'static str {
        match self {
            AuthError::Missing => "Unauthorized: authentication required",
            _ => "Unauthorized: invalid or expired credentials",
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match &self {
            AuthError::Missing => tracing::debug!("request without credentials refused"),
            other => tracing::info!(reason = %other, "authentication failed"),
        }
        let body = serde_json::json!({
            "jsonrpc": "2.0",
            "id": null,
            "error": {"code": -32000, "message": self.public_message()},
        });
        let mut response = (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(self.challenge()),
        );
        response
    }
}
