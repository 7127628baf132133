//! HS256 JSON Web Tokens (RFC 7519), verified by hand with `hmac` + `sha2`.
//!
//! Only what a shared-secret deployment needs: the header must say `"alg": "HS256"` (so `none`
//! and every asymmetric algorithm are refused before anything else is looked at) and carry no
//! `crit` extensions; the signature is checked in constant time before the claims are read;
//! `exp` and `sub` are required (the caller is `jwt:<sub>`), `nbf` is enforced when present, both with a small leeway;
//! `iss` must equal the configured issuer when one is set; `aud` (a string or an array) must
//! contain the configured audience, and a token with an `aud` is refused when no audience is
//! configured (RFC 7519 §4.1.3). Scopes come from `scope` (space-separated, RFC 8693), `scopes`
//! or `scp` (a string or an array).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::AuthError;
use super::Caller;
use super::claims::OneOrMany;

#[cfg(test)]
mod tests;

/// Larger bearer tokens are refused unread.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// How JWTs are verified.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct JwtConfig {
    /// The HS256 key (the secret's UTF-8 bytes).
    pub(super) secret: Vec<u8>,
    /// The required `iss`, if any.
    pub(super) issuer: Option<String>,
    /// A value `aud` must contain, if any.
    pub(super) audience: Option<String>,
    /// Tolerance for `exp` and `nbf`.
    pub(super) leeway: Duration,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtConfig")
            .field(
                "secret",
                &format_args!("<redacted {} bytes>", self.secret.len()),
            )
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .finish()
    }
}

/// Three non-empty base64url parts separated by dots: what a JWS compact serialization looks like.
pub(super) fn looks_like_jwt(token: &str) -> bool {
    let mut parts = 0;
    for part in token.split('.') {
        parts += 1;
        if part.is_empty()
            || !part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
    }
    parts == 3
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    crit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    exp: Option<f64>,
    nbf: Option<f64>,
    iss: Option<String>,
    aud: Option<OneOrMany>,
    scope: Option<String>,
    scopes: Option<OneOrMany>,
    scp: Option<OneOrMany>,
}

fn decode(part: &str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed)
}

impl JwtConfig {
    /// Verifies `token` at time `now` and returns its caller.
    pub(super) fn verify(&self, token: &str, now: SystemTime) -> Result<Caller, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed);
        };
        let header: Header =
            serde_json::from_slice(&decode(header_b64)?).map_err(|_| AuthError::Malformed)?;
        if header.alg != "HS256" {
            return Err(AuthError::Algorithm);
        }
        if header.crit.is_some() {
            return Err(AuthError::Malformed);
        }
        let signature = decode(signature_b64)?;
        let signed = &token[..header_b64.len() + 1 + payload_b64.len()];
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).map_err(|_| AuthError::Signature)?;
        mac.update(signed.as_bytes());
        // `verify_slice` compares in constant time.
        mac.verify_slice(&signature)
            .map_err(|_| AuthError::Signature)?;

        let claims: Claims =
            serde_json::from_slice(&decode(payload_b64)?).map_err(|_| AuthError::Malformed)?;
        let now = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let leeway = self.leeway.as_secs_f64();
        let exp = claims.exp.ok_or(AuthError::MissingClaim("exp"))?;
        if now >= exp + leeway {
            return Err(AuthError::Expired);
        }
        if claims.nbf.is_some_and(|nbf| now + leeway < nbf) {
            return Err(AuthError::NotYetValid);
        }
        if let Some(issuer) = &self.issuer
            && claims.iss.as_ref() != Some(issuer)
        {
            return Err(AuthError::Issuer);
        }
        match (&self.audience, claims.aud.map(OneOrMany::into_vec)) {
            (None, None) => {}
            (Some(want), Some(aud)) if aud.contains(want) => {}
            _ => return Err(AuthError::Audience),
        }
        let sub = claims
            .sub
            .filter(|s| !s.is_empty())
            .ok_or(AuthError::MissingClaim("sub"))?;
        // Its own name space: `sub: "alice"` is not the caller API key `alice` is.
        let id = format!("{}{sub}", super::JWT_CALLER_PREFIX);
        let mut scopes: Vec<String> = Vec::new();
        let listed = claims
            .scope
            .iter()
            .flat_map(|s| s.split_whitespace().map(str::to_owned))
            .chain(claims.scopes.into_iter().flat_map(OneOrMany::into_vec))
            .chain(claims.scp.into_iter().flat_map(OneOrMany::into_vec));
        for scope in listed {
            if !scope.is_empty() && !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        Ok(Caller { id, scopes })
    }
}

/// Signs `header.claims` with HS256 (or with `alg`'s name only, for tests of refused algorithms).
#[cfg(test)]
pub(super) fn sign(
    secret: &[u8],
    header: &serde_json::Value,
    claims: &serde_json::Value,
) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{h}.{c}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(signed.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signed}.{sig}")
}
