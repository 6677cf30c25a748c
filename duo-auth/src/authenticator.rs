//! [`Authenticator`]: checks a request's headers and token in the reference's order.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use duo_core::UnitPrimitive;
use duo_providers::HttpClient;
use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation, decode, decode_header, encode};

use super::caller::Caller;
use super::claims::{IssuedClaims, IssuerOnly, TokenClaims};
use super::config::{AuthConfig, AuthConfigError, SELF_ISSUER};
use super::error::AuthError;
use super::jwks::{OidcKeys, OidcSettings};
use super::jws_header::check_header;
use super::local_keys::{LocalKeys, SIGNING_KID, SigningKeySource};
use super::verified::VerifiedTokens;

/// Header naming the token type; must be `oidc`.
pub const AUTHENTICATION_TYPE_HEADER: &str = "x-gitlab-authentication-type";
/// Header with the GitLab instance id; must match the `gitlab_instance_id` claim.
pub const INSTANCE_ID_HEADER: &str = "x-gitlab-instance-id";
/// Header with the realm; must match the `gitlab_realm` claim.
pub const REALM_HEADER: &str = "x-gitlab-realm";
/// Header with the user's global id; must match the subject of gateway-issued tokens.
pub const GLOBAL_USER_ID_HEADER: &str = "x-gitlab-global-user-id";
/// Header that bypasses auth when `bypass_external_with_header` is on.
pub const BYPASS_HEADER: &str = "bypass-auth";

/// Verifies callers: GitLab-instance tokens (OIDC keys), the gateway's own tokens, or bypass.
///
/// Build it once at start ([`Authenticator::new`]) and share it (`Arc`); keys are fetched lazily,
/// within a Tokio runtime.
pub struct Authenticator {
    bypass_external: bool,
    bypass_external_with_header: bool,
    bypass_jwt_signature: bool,
    audience: String,
    local: LocalKeys,
    /// The local keys' algorithms, audience, issuer `gitlab-ai-gateway`.
    local_validation: Validation,
    /// Audience and expiry checks without a signature (`bypass_jwt_signature`).
    unsigned_validation: Validation,
    /// No checks at all: reads the issuer of a token without `kid` to pick its key source.
    peek_validation: Validation,
    oidc: Option<OidcKeys>,
    /// Tokens verified recently (see [`VerifiedTokens`]).
    verified: VerifiedTokens,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("bypass_external", &self.bypass_external)
            .field(
                "bypass_external_with_header",
                &self.bypass_external_with_header,
            )
            .field("bypass_jwt_signature", &self.bypass_jwt_signature)
            .field("audience", &self.audience)
            .field("signing_key", &self.local.source)
            .field("validation_key", &self.local.validation.is_some())
            .field(
                "oidc_issuers",
                &self.oidc.as_ref().map(OidcKeys::issuer_urls),
            )
            .finish()
    }
}

impl Authenticator {
    /// Validates the settings (keys are parsed now, errors name the setting); fetches nothing.
    /// Discovery and key fetches go through `http`, so through its egress policy (resolved
    /// addresses checked, no redirects) and its CA roots.
    ///
    /// Without `signing_key`, generates an ephemeral signing key and warns (once, here) that its
    /// tokens die with the process and do not work across replicas.
    pub fn new(config: &AuthConfig, http: &HttpClient) -> Result<Self, AuthConfigError> {
        if config.audience.trim().is_empty() {
            return Err(AuthConfigError::Invalid {
                key: "audience",
                reason: "must not be empty".into(),
            });
        }
        if config.jwks_cache_ttl_s == 0 {
            return Err(AuthConfigError::Invalid {
                key: "jwks_cache_ttl_s",
                reason: "must be at least 1 second".into(),
            });
        }
        let issuers = config.oidc_issuers();
        for (key, value) in &issuers {
            let ok = url::Url::parse(value)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
            if !ok {
                return Err(AuthConfigError::InvalidUrl {
                    key,
                    url: value.clone(),
                });
            }
        }
        let local =
            LocalKeys::from_config(config.signing_key.as_ref(), config.validation_key.as_ref())?;

        let mut base = Validation::new(Algorithm::RS256);
        base.set_audience(&[config.audience.as_str()]);
        base.set_required_spec_claims(&["exp", "aud"]);
        base.leeway = config.leeway_s;
        base.validate_nbf = true;

        let mut local_validation = base.clone();
        local_validation.algorithms = local.algorithms();
        local_validation.set_issuer(&[SELF_ISSUER]);

        let mut unsigned_validation = base.clone();
        unsigned_validation.insecure_disable_signature_validation();
        let mut peek_validation = unsigned_validation.clone();
        peek_validation.validate_exp = false;
        peek_validation.validate_nbf = false;
        peek_validation.validate_aud = false;
        peek_validation.required_spec_claims.clear();

        let oidc = (!issuers.is_empty()).then(|| {
            OidcKeys::new(
                issuers,
                http.clone(),
                OidcSettings {
                    ttl: Duration::from_secs(config.jwks_cache_ttl_s),
                    min_refresh: Duration::from_secs(config.jwks_min_refresh_interval_s),
                    fetch_timeout: Duration::from_secs(config.jwks_fetch_timeout_s.max(1)),
                    base_validation: base,
                },
            )
        });
        if config.bypass_jwt_signature {
            tracing::warn!(
                "auth.bypass_jwt_signature is on: token signatures are NOT checked (development only)"
            );
        }
        if local.source == SigningKeySource::Ephemeral {
            tracing::warn!(
                "no self_signed_jwt.signing_key configured: user access tokens are signed with an \
                 ephemeral key generated at start; they die with the process and are refused by \
                 other replicas (set AIGW_SELF_SIGNED_JWT__SIGNING_KEY, the same on every replica)"
            );
        }
        if oidc.is_none() && !config.bypass_external {
            tracing::warn!(
                "no OIDC issuer configured (AIGW_GITLAB_URL): only tokens this gateway signed \
                 itself are accepted, so in practice every request is refused"
            );
        }
        Ok(Self {
            bypass_external: config.bypass_external,
            bypass_external_with_header: config.bypass_external_with_header,
            bypass_jwt_signature: config.bypass_jwt_signature,
            audience: config.audience.clone(),
            local,
            local_validation,
            unsigned_validation,
            peek_validation,
            oidc,
            verified: VerifiedTokens::default(),
        })
    }

    /// Whether the key signing the gateway's own tokens was configured or generated at start.
    #[must_use]
    pub fn signing_key_source(&self) -> SigningKeySource {
        self.local.source
    }

    /// Authenticates a request from its headers alone (the body is never needed).
    ///
    /// Checks, in order: bypass; `Authorization` present; `Bearer <token>`;
    /// `X-Gitlab-Authentication-Type: oidc`; signature, expiry and audience (or a recent
    /// verification of the same token, remembered a few minutes: AUTH.md); then the
    /// instance-id, realm and global-user-id headers against the claims.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, AuthError> {
        if self.bypass_external
            || (self.bypass_external_with_header && header(headers, BYPASS_HEADER) == Some("true"))
        {
            return Ok(Caller::bypass(
                header_owned(headers, GLOBAL_USER_ID_HEADER),
                header_owned(headers, INSTANCE_ID_HEADER),
                header_owned(headers, REALM_HEADER),
            ));
        }
        let token = bearer_token(headers)?;
        if header(headers, AUTHENTICATION_TYPE_HEADER) != Some("oidc") {
            return Err(AuthError::InvalidTokenType);
        }
        let (claims, gateway_issued) = match self.verified.get(token) {
            Some(hit) => hit,
            None => {
                let (claims, gateway_issued) = self.verify(token).await?;
                let verified = (Arc::new(claims), gateway_issued);
                if !self.bypass_jwt_signature {
                    self.verified.insert(token, verified.clone());
                }
                verified
            }
        };
        check_headers(headers, &claims, gateway_issued)?;
        Ok(Caller {
            subject: claims.sub.clone().unwrap_or_default(),
            issuer: claims.iss.clone().unwrap_or_default(),
            gitlab_instance_id: claims
                .gitlab_instance_id
                .clone()
                .or_else(|| header_owned(headers, INSTANCE_ID_HEADER)),
            gitlab_realm: claims
                .gitlab_realm
                .clone()
                .or_else(|| header_owned(headers, REALM_HEADER)),
            gitlab_instance_uid: claims.gitlab_instance_uid.clone(),
            global_user_id: header_owned(headers, GLOBAL_USER_ID_HEADER),
            scopes: claims.scopes.clone(),
            gateway_issued,
            bypassed: false,
        })
    }

    /// Verifies a token's signature and claims; returns them and whether the gateway issued it.
    async fn verify(&self, token: &str) -> Result<(TokenClaims, bool), AuthError> {
        let header = decode_header(token).map_err(|e| forbidden("token header unreadable", &e))?;
        check_header(token).map_err(|why| {
            tracing::debug!(
                ?why,
                "token header refused (crit names extensions the gateway does not understand)"
            );
            AuthError::Forbidden
        })?;
        if self.bypass_jwt_signature {
            let claims = decode::<TokenClaims>(
                token,
                &DecodingKey::from_secret(&[]),
                &self.unsigned_validation,
            )
            .map_err(|e| forbidden("token rejected (signature not checked)", &e))?
            .claims;
            let gateway_issued = claims.iss.as_deref() == Some(SELF_ISSUER);
            return Ok((claims, gateway_issued));
        }
        let kid = header.kid.as_deref();
        let local = match kid {
            Some(kid) => LocalKeys::is_local_kid(kid),
            // Tokens without a kid (GitLab's gateway signs its own that way) are routed by issuer.
            None => self.peek_issuer(token).as_deref() == Some(SELF_ISSUER),
        };
        if local {
            self.verify_local(token).map(|claims| (claims, true))
        } else {
            self.verify_oidc(token, kid)
                .await
                .map(|claims| (claims, false))
        }
    }

    /// The unverified `iss`, only to choose where the key comes from.
    fn peek_issuer(&self, token: &str) -> Option<String> {
        decode::<IssuerOnly>(token, &DecodingKey::from_secret(&[]), &self.peek_validation)
            .ok()?
            .claims
            .iss
    }

    fn verify_local(&self, token: &str) -> Result<TokenClaims, AuthError> {
        let mut last = None;
        for key in self.local.iter() {
            match decode::<TokenClaims>(token, &key.decoding, &self.local_validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) => {
                    tracing::debug!(key = key.name, error = %e, "self-signed token not verified by this key");
                    last = Some(e);
                }
            }
        }
        match last {
            Some(e) => Err(forbidden("self-signed token rejected", &e)),
            None => Err(AuthError::Forbidden),
        }
    }

    async fn verify_oidc(&self, token: &str, kid: Option<&str>) -> Result<TokenClaims, AuthError> {
        let Some(oidc) = &self.oidc else {
            tracing::debug!("token refused: no OIDC issuer configured (auth.gitlab_url)");
            return Err(AuthError::Forbidden);
        };
        let Some(set) = oidc.key_set_for(kid).await else {
            tracing::warn!(issuers = ?oidc.issuer_urls(), "token refused: No keys found in JWKS; is the OIDC provider up?");
            return Err(AuthError::Forbidden);
        };
        let mut last = None;
        for key in set.candidates(kid) {
            match decode::<TokenClaims>(token, &key.decoding, &key.validation) {
                Ok(data) if data.claims.iss.as_deref() == Some(SELF_ISSUER) => {
                    tracing::warn!(
                        "token claims the gateway as issuer but is signed by an OIDC key"
                    );
                    return Err(AuthError::Forbidden);
                }
                Ok(data) => return Ok(data.claims),
                Err(e) => last = Some(e),
            }
        }
        match last {
            Some(e) => Err(forbidden("token rejected", &e)),
            None => {
                tracing::debug!(kid, "token refused: no OIDC key with this kid");
                Err(AuthError::Forbidden)
            }
        }
    }

    /// Signs a short-lived token for `caller` (IDE direct access, `/v1/code/user_access_token`).
    ///
    /// Claims: `iss` and `aud` `gitlab-ai-gateway` (the configured audience), `sub` the caller's
    /// global user id (else its subject), `gitlab_realm`, `gitlab_instance_id`, `gitlab_instance_uid`
    /// (self-managed only), `scopes`, `iat`/`nbf` now, `exp` now + `ttl`, a random `jti`; signed
    /// with the signing key (RS256 when configured, ES256 when ephemeral). Returns the token and
    /// its `exp`.
    pub fn issue_user_token(
        &self,
        caller: &Caller,
        scopes: &[UnitPrimitive],
        ttl: Duration,
    ) -> Result<(String, u64), AuthError> {
        let key = &self.local.signing;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| AuthError::TokenGeneration)?
            .as_secs();
        let exp = now.saturating_add(ttl.as_secs());
        let realm = caller.gitlab_realm.as_deref();
        let claims = IssuedClaims {
            iss: SELF_ISSUER,
            sub: caller.global_user_id.as_deref().unwrap_or(&caller.subject),
            aud: &self.audience,
            exp,
            nbf: now,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            gitlab_realm: realm,
            gitlab_instance_id: caller.gitlab_instance_id.as_deref(),
            gitlab_instance_uid: if realm == Some("self-managed") {
                caller.gitlab_instance_uid.as_deref()
            } else {
                None
            },
            scopes: scopes.iter().map(|up| up.as_str()).collect(),
        };
        let mut header = Header::new(key.algorithm);
        header.kid = Some(SIGNING_KID.to_owned());
        let token = encode(&header, &claims, &key.encoding).map_err(|e| {
            tracing::warn!(error = %e, "signing a user access token failed");
            AuthError::TokenGeneration
        })?;
        Ok((token, exp))
    }
}

/// Logs why a token was refused (never the token) and answers "Forbidden by auth provider".
fn forbidden(what: &str, error: &jsonwebtoken::errors::Error) -> AuthError {
    tracing::debug!(error = %error, "{what}");
    AuthError::Forbidden
}

/// The token of `Authorization: Bearer <token>`.
fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(AuthError::MissingAuthorization)?;
    let value = value
        .to_str()
        .map_err(|_| AuthError::InvalidAuthorization)?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(AuthError::InvalidAuthorization)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.is_empty()
        || token.contains(char::is_whitespace)
    {
        return Err(AuthError::InvalidAuthorization);
    }
    Ok(token)
}

/// Compares the context headers with the verified claims (a claim that is empty is not checked).
fn check_headers(
    headers: &HeaderMap,
    claims: &TokenClaims,
    gateway_issued: bool,
) -> Result<(), AuthError> {
    if let Some(id) = claims.gitlab_instance_id.as_deref()
        && header(headers, INSTANCE_ID_HEADER) != Some(id)
    {
        return Err(AuthError::InstanceIdMismatch);
    }
    if let Some(realm) = claims.gitlab_realm.as_deref()
        && header(headers, REALM_HEADER) != Some(realm)
    {
        return Err(AuthError::RealmMismatch);
    }
    if gateway_issued
        && header(headers, GLOBAL_USER_ID_HEADER) != Some(claims.sub.as_deref().unwrap_or_default())
    {
        return Err(AuthError::GlobalUserIdMismatch);
    }
    Ok(())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn header_owned(headers: &HeaderMap, name: &str) -> Option<String> {
    header(headers, name)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}
