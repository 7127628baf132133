//! OAuth 2.1 access tokens from an identity provider: fastmcp as a resource server (MCP
//! authorization specification, 2025-06-18 and later).
//!
//! A token is a JWT signed with one of [`ALGORITHMS`] by a key of the configured issuer's JWK
//! set ([`super::jwks`]). Checked in this order, each failure a 401 with
//! `error="invalid_token"`:
//! - size: the token at most 16 KiB, its header at most [`MAX_HEADER_BYTES`];
//! - header: `alg` one of [`ALGORITHMS`] (never `none`, never HMAC: the HS256 method has its
//!   own secret, and a public key is never an HMAC key); no `jku`, `x5u`, `jwk` or `x5c` (keys
//!   come from the configured issuer only, never from the token); no `crit`;
//! - key: the set's key with the header's `kid`, of the algorithm's family and, when the set
//!   names one, of exactly that `alg`;
//! - signature, then claims: `iss` equal to the issuer, `aud` containing this server's resource
//!   URL (RFC 8707) or `--oauth-audience`, `exp` and `nbf` with [`super::DEFAULT_LEEWAY`] of
//!   clock skew, `sub` present.
//!
//! The caller is `oauth:<sub>`, a name space apart from `key:` and `jwt:`; its scopes come from
//! `scope` (space-separated) or `scp` (a string or an array, as Entra ID and Okta send).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::Caller;
use super::claims::OneOrMany;
use super::jwks::{KeyStore, Lookup};
use super::{AuthConfigError, AuthError, AuthSources};

#[cfg(test)]
mod tests;

/// The prefix of the caller id of a request authenticated by an OAuth access token.
pub(crate) const OAUTH_CALLER_PREFIX: &str = "oauth:";
/// The signature algorithms accepted.
pub(crate) const ALGORITHMS: [Algorithm; 7] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];
/// Larger tokens are refused unread.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Larger (base64url) headers are refused before they are decoded; real ones are ~100 bytes.
pub(crate) const MAX_HEADER_BYTES: usize = 1024;

/// The OAuth resource server settings, validated.
#[derive(Clone)]
pub(crate) struct OAuthConfig {
    /// `--oauth-issuer`: the required `iss`, and where keys are found.
    pub(super) issuer: String,
    /// `--jwks-url`, when the key set is not found through the issuer's metadata.
    pub(super) jwks_url: Option<String>,
    /// This server's resource URL (RFC 9728 `resource`): `--public-url` + endpoint, else
    /// `--oauth-audience`.
    pub(super) resource: String,
    /// What `aud` must contain (RFC 8707): `--oauth-audience`, else the resource URL.
    pub(super) audience: String,
    /// Where the Protected Resource Metadata of `resource` is served (RFC 9728 §3.1).
    pub(super) metadata_url: String,
    /// The keys, shared by clones of this configuration.
    pub(super) keys: Arc<KeyStore>,
}

impl PartialEq for OAuthConfig {
    fn eq(&self, other: &Self) -> bool {
        (&self.issuer, &self.jwks_url, &self.resource, &self.audience)
            == (
                &other.issuer,
                &other.jwks_url,
                &other.resource,
                &other.audience,
            )
    }
}

impl Eq for OAuthConfig {}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("issuer", &self.issuer)
            .field("jwks_url", &self.jwks_url)
            .field("resource", &self.resource)
            .field("audience", &self.audience)
            .field("metadata_url", &self.metadata_url)
            .finish()
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    jku: Option<serde::de::IgnoredAny>,
    x5u: Option<serde::de::IgnoredAny>,
    jwk: Option<serde::de::IgnoredAny>,
    x5c: Option<serde::de::IgnoredAny>,
    crit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    scope: Option<String>,
    scp: Option<OneOrMany>,
}

/// The OAuth settings of `sources`: `None` without `--oauth-issuer`.
pub(super) fn from_sources(sources: &AuthSources) -> Result<Option<OAuthConfig>, AuthConfigError> {
    let issuer = url_option("--oauth-issuer", &sources.oauth_issuer)?;
    let jwks_url = url_option("--jwks-url", &sources.jwks_url)?;
    let audience = match sources.oauth_audience.as_deref().map(str::trim) {
        None => None,
        Some("") => {
            return Err(AuthConfigError::OAuthOption {
                option: "--oauth-audience",
                reason: "is empty".into(),
            });
        }
        Some(a) => Some(a.to_owned()),
    };
    let public_url = url_option("--public-url", &sources.public_url)?;
    let Some(issuer) = issuer else {
        let without = |option| AuthConfigError::OAuthOption {
            option,
            reason: "needs --oauth-issuer (FASTMCP_OAUTH_ISSUER): the issuer is always checked"
                .into(),
        };
        if jwks_url.is_some() {
            return Err(without("--jwks-url"));
        }
        if audience.is_some() {
            return Err(without("--oauth-audience"));
        }
        return Ok(None);
    };
    // The resource is the URL clients connect to (the metadata names it, and MCP clients check
    // it against that URL); the audience is what tokens must carry, the resource unless an
    // identity provider insists on its own form (Entra ID's `api://...`).
    let resource = match (&public_url, &audience) {
        (Some(p), _) => format!("{}{}", p.trim_end_matches('/'), sources.endpoint),
        (None, Some(a)) => a.clone(),
        (None, None) => {
            return Err(AuthConfigError::OAuthOption {
                option: "--oauth-issuer",
                reason: "needs --public-url (FASTMCP_PUBLIC_URL) or --oauth-audience \
                         (FASTMCP_OAUTH_AUDIENCE): the resource URL tokens must be issued for"
                    .into(),
            });
        }
    };
    let audience = audience.unwrap_or_else(|| resource.clone());
    let metadata_url = metadata_url(&resource);
    Ok(Some(OAuthConfig {
        keys: Arc::new(KeyStore::new(issuer.clone(), jwks_url.clone())),
        issuer,
        jwks_url,
        resource,
        audience,
        metadata_url,
    }))
}

/// An `http(s)://host/...` URL without a fragment, kept as given (claims compare exactly).
fn url_option(
    option: &'static str,
    value: &Option<String>,
) -> Result<Option<String>, AuthConfigError> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim();
    let bad = |reason: String| AuthConfigError::OAuthOption { option, reason };
    let url = reqwest::Url::parse(v).map_err(|e| bad(format!("is not a URL ({e}): {v:?}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad(format!(
            "must be an http:// or https:// URL with a host: {v:?}"
        )));
    }
    if url.fragment().is_some() || url.query().is_some() {
        return Err(bad(format!("must not have a query or fragment: {v:?}")));
    }
    Ok(Some(v.to_owned()))
}

/// RFC 9728 §3.1: the well-known segment goes between the resource's host and its path.
pub(crate) fn metadata_url(resource: &str) -> String {
    match reqwest::Url::parse(resource) {
        Ok(u) => format!(
            "{}/.well-known/oauth-protected-resource{}",
            u.origin().ascii_serialization(),
            u.path().trim_end_matches('/')
        ),
        Err(_) => format!("{resource}/.well-known/oauth-protected-resource"),
    }
}

/// The `alg` a JWT's header names, or `None` when the header cannot be read. Decides which JWT
/// method verifies it: HMAC algorithms (and `none`) go to the HS256 secret, the others here.
pub(super) fn header_alg(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct AlgOnly {
        alg: String,
    }
    let part = token.split('.').next()?;
    if part.len() > MAX_HEADER_BYTES {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice::<AlgOnly>(&bytes)
        .ok()
        .map(|h| h.alg)
}

impl OAuthConfig {
    /// This server's resource URL, as the Protected Resource Metadata names it.
    pub(crate) fn resource(&self) -> &str {
        &self.resource
    }

    /// What tokens must name in `aud`.
    pub(crate) fn audience(&self) -> &str {
        &self.audience
    }

    /// The issuer, as the Protected Resource Metadata's `authorization_servers` names it.
    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The URL of this resource's Protected Resource Metadata, for `WWW-Authenticate`.
    pub(crate) fn metadata_url(&self) -> &str {
        &self.metadata_url
    }

    /// Fetches the keys once, at startup; a failure is logged and retried on demand.
    pub(crate) async fn prefetch(&self) {
        self.keys.refresh().await;
    }

    /// Verifies an access token and returns its caller.
    pub(super) async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed);
        }
        let header_b64 = token.split('.').next().unwrap_or_default();
        if header_b64.len() > MAX_HEADER_BYTES {
            return Err(AuthError::Malformed);
        }
        let header: Header = URL_SAFE_NO_PAD
            .decode(header_b64)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(AuthError::Malformed)?;
        let alg = Algorithm::from_str(&header.alg)
            .ok()
            .filter(|a| ALGORITHMS.contains(a))
            .ok_or(AuthError::Algorithm)?;
        if header.jku.is_some() || header.x5u.is_some() {
            return Err(AuthError::ForeignKey("jku/x5u"));
        }
        if header.jwk.is_some() || header.x5c.is_some() {
            return Err(AuthError::ForeignKey("jwk/x5c"));
        }
        if header.crit.is_some() {
            return Err(AuthError::Malformed);
        }
        let key = match self.keys.key(header.kid.as_deref()).await {
            Lookup::Found(k) => k,
            Lookup::Unknown => return Err(AuthError::UnknownSigningKey),
            Lookup::Unavailable => return Err(AuthError::KeysUnavailable),
        };
        if key.alg.is_some_and(|a| a != alg) || key.key.family() != alg.family() {
            return Err(AuthError::Algorithm);
        }
        let mut validation = Validation::new(alg);
        validation.leeway = super::DEFAULT_LEEWAY.as_secs();
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|e| token_error(e.kind()))?;
        let claims = data.claims;
        let sub = claims
            .sub
            .filter(|s| !s.is_empty())
            .ok_or(AuthError::MissingClaim("sub"))?;
        let listed = claims
            .scope
            .iter()
            .flat_map(|s| s.split_whitespace().map(str::to_owned))
            .chain(claims.scp.into_iter().flat_map(|s| match s {
                OneOrMany::One(s) => s.split_whitespace().map(str::to_owned).collect(),
                OneOrMany::Many(v) => v,
            }));
        let mut scopes: Vec<String> = Vec::new();
        for scope in listed {
            if !scope.is_empty() && !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        Ok(Caller {
            id: format!("{OAUTH_CALLER_PREFIX}{sub}"),
            scopes,
        })
    }
}

fn token_error(kind: &jsonwebtoken::errors::ErrorKind) -> AuthError {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::InvalidSignature => AuthError::Signature,
        K::ExpiredSignature => AuthError::Expired,
        K::ImmatureSignature => AuthError::NotYetValid,
        K::InvalidIssuer => AuthError::Issuer,
        K::InvalidAudience => AuthError::Audience,
        K::InvalidAlgorithm | K::MissingAlgorithm => AuthError::Algorithm,
        K::MissingRequiredClaim(c) => AuthError::MissingClaim(match c.as_str() {
            "exp" => "exp",
            "iss" => "iss",
            "aud" => "aud",
            _ => "sub",
        }),
        _ => AuthError::Malformed,
    }
}
