//! The gateway's own keys: the signing key (signs and verifies) and the validation key (the
//! previous signing key, still verifying during a rotation).
//!
//! Configured keys are RSA (RS256, as GitLab's gateway signs). `jsonwebtoken` can sign with a
//! private PEM but cannot derive the public half from it, so the PEM is parsed with `pem` and
//! the key pair with `ring` (both already in the dependency graph through `jsonwebtoken`):
//! `ring` validates the key and hands out the DER `RSAPublicKey`.
//!
//! With no signing key configured, an **ephemeral** key is generated at start, so
//! `/v1/code/user_access_token` works on a default single-replica install. It is an ECDSA P-256
//! key (ES256) because `ring` can generate those (it cannot generate RSA keys) in microseconds,
//! with no new dependency; only this process verifies its tokens, so they need not be RS256.
//! Its tokens die with the process and are refused by other replicas.

use std::fmt;

use duo_core::Secret;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};

use super::config::AuthConfigError;

/// `kid` of tokens the gateway signs with its signing key (the name GitLab's gateway uses).
pub(crate) const SIGNING_KID: &str = "gitlab_ai_gateway_signing_key";
/// `kid` naming the validation (previous) key.
pub(crate) const VALIDATION_KID: &str = "gitlab_ai_gateway_validation_key";

/// One of the gateway's own keys, ready to verify (and, for the signing key, to sign).
pub(crate) struct LocalKey {
    /// Which setting it came from, for logs.
    pub(crate) name: &'static str,
    /// The one algorithm it signs and verifies.
    pub(crate) algorithm: Algorithm,
    /// The public half.
    pub(crate) decoding: DecodingKey,
    /// The private half.
    pub(crate) encoding: EncodingKey,
}

/// Where the key that signs the gateway's own tokens comes from (never the key itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningKeySource {
    /// `self_signed_jwt.signing_key` (`AIGW_SELF_SIGNED_JWT__SIGNING_KEY`), RS256.
    Configured,
    /// Generated at start (ES256): tokens die with the process and fail on other replicas.
    Ephemeral,
}

impl fmt::Display for SigningKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Configured => "configured (self_signed_jwt.signing_key, RS256)",
            Self::Ephemeral => {
                "ephemeral (generated at start, ES256; its tokens die with the process and are \
                 not accepted by other replicas; set self_signed_jwt.signing_key to share one)"
            }
        })
    }
}

/// The signing key (configured or ephemeral) and the optional validation key.
pub(crate) struct LocalKeys {
    /// Signs new tokens and verifies them.
    pub(crate) signing: LocalKey,
    /// Whether `signing` was configured or generated.
    pub(crate) source: SigningKeySource,
    /// Verifies tokens signed by the previous key.
    pub(crate) validation: Option<LocalKey>,
}

impl LocalKeys {
    /// Parses both keys, failing with an error that names the setting; generates an ephemeral
    /// signing key when none is configured.
    pub(crate) fn from_config(
        signing: Option<&Secret>,
        validation: Option<&Secret>,
    ) -> Result<Self, AuthConfigError> {
        let validation = parse_optional("validation_key", validation)?;
        let (signing, source) = match parse_optional("signing_key", signing)? {
            Some(key) => (key, SigningKeySource::Configured),
            None => (ephemeral_key()?, SigningKeySource::Ephemeral),
        };
        Ok(Self {
            signing,
            source,
            validation,
        })
    }

    /// The keys, signing key first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &LocalKey> {
        std::iter::once(&self.signing).chain(self.validation.iter())
    }

    /// The algorithms of the keys, each once.
    pub(crate) fn algorithms(&self) -> Vec<Algorithm> {
        let mut algorithms: Vec<Algorithm> = Vec::new();
        for key in self.iter() {
            if !algorithms.contains(&key.algorithm) {
                algorithms.push(key.algorithm);
            }
        }
        algorithms
    }

    /// Whether a token `kid` names one of the gateway's own keys.
    pub(crate) fn is_local_kid(kid: &str) -> bool {
        kid == SIGNING_KID || kid == VALIDATION_KID
    }
}

/// The algorithm of configured (RSA) keys.
const CONFIGURED_ALGORITHM: Algorithm = Algorithm::RS256;

/// A fresh ECDSA P-256 key pair (ES256), for this process only.
fn ephemeral_key() -> Result<LocalKey, AuthConfigError> {
    let failed = |what: &str| AuthConfigError::Invalid {
        key: "signing_key",
        reason: format!("none configured, and an ephemeral key could not be {what}"),
    };
    let rng = ring::rand::SystemRandom::new();
    let alg = &ECDSA_P256_SHA256_FIXED_SIGNING;
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).map_err(|_| failed("generated"))?;
    let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).map_err(|_| failed("loaded"))?;
    Ok(LocalKey {
        name: "ephemeral signing key",
        algorithm: Algorithm::ES256,
        decoding: DecodingKey::from_ec_der(pair.public_key().as_ref()),
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
    })
}

fn parse_optional(
    name: &'static str,
    secret: Option<&Secret>,
) -> Result<Option<LocalKey>, AuthConfigError> {
    match secret {
        Some(s) if !s.expose().trim().is_empty() => {
            parse_rsa_private_pem(name, s.expose()).map(Some)
        }
        _ => Ok(None),
    }
}

/// Parses an RSA private key in PEM (`RSA PRIVATE KEY` or `PRIVATE KEY`) into both halves.
///
/// Environment variables often carry PEMs with literal `\n`; those are turned into newlines.
pub(crate) fn parse_rsa_private_pem(
    name: &'static str,
    pem_text: &str,
) -> Result<LocalKey, AuthConfigError> {
    let invalid = |reason: String| AuthConfigError::InvalidKey { key: name, reason };
    let normalised;
    let text = if pem_text.contains("\\n") && !pem_text.trim().contains('\n') {
        normalised = pem_text.replace("\\n", "\n");
        normalised.as_str()
    } else {
        pem_text
    };
    let block = pem::parse(text.trim()).map_err(|e| {
        invalid(format!(
            "not a PEM block ({e}); expected an RSA private key"
        ))
    })?;
    let der = block.contents();
    let pair = match block.tag() {
        "RSA PRIVATE KEY" => ring::rsa::KeyPair::from_der(der),
        "PRIVATE KEY" => ring::rsa::KeyPair::from_pkcs8(der),
        other => {
            return Err(invalid(format!(
                "PEM block '{other}' is not an RSA private key (expected 'RSA PRIVATE KEY' or 'PRIVATE KEY')"
            )));
        }
    }
    .map_err(|e| invalid(format!("RSA private key rejected: {e}")))?;
    // ring validated the key; jsonwebtoken unwraps PKCS#8 itself and signs with ring too.
    let encoding = EncodingKey::from_rsa_pem(text.trim().as_bytes())
        .map_err(|e| invalid(format!("RSA private key rejected by the signer: {e}")))?;
    let decoding = DecodingKey::from_rsa_der(public_der(&pair));
    Ok(LocalKey {
        name,
        algorithm: CONFIGURED_ALGORITHM,
        decoding,
        encoding,
    })
}

/// The DER `RSAPublicKey` of a key pair.
fn public_der(pair: &ring::rsa::KeyPair) -> &[u8] {
    pair.public().as_ref()
}
