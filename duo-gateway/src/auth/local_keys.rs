//! The gateway's own RSA keys: the signing key (signs and verifies) and the validation key (the
//! previous signing key, still verifying during a rotation).
//!
//! `jsonwebtoken` can sign with a private PEM but cannot derive the public half from it, so the
//! PEM is parsed with `pem` and the key pair with `ring` (both already in the dependency graph
//! through `jsonwebtoken`): `ring` validates the key and hands out the DER `RSAPublicKey`.

use duo_core::Secret;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use super::config::AuthConfigError;

/// `kid` of tokens the gateway signs with its signing key (the name GitLab's gateway uses).
pub(crate) const SIGNING_KID: &str = "gitlab_ai_gateway_signing_key";
/// `kid` naming the validation (previous) key.
pub(crate) const VALIDATION_KID: &str = "gitlab_ai_gateway_validation_key";

/// One of the gateway's own keys, ready to verify (and, for the signing key, to sign).
pub(crate) struct LocalKey {
    /// Which setting it came from, for logs.
    pub(crate) name: &'static str,
    /// The public half.
    pub(crate) decoding: DecodingKey,
    /// The private half.
    pub(crate) encoding: EncodingKey,
}

/// The signing and validation keys, both optional.
#[derive(Default)]
pub(crate) struct LocalKeys {
    /// Signs new tokens and verifies them.
    pub(crate) signing: Option<LocalKey>,
    /// Verifies tokens signed by the previous key.
    pub(crate) validation: Option<LocalKey>,
}

impl LocalKeys {
    /// Parses both keys, failing with an error that names the setting.
    pub(crate) fn from_config(
        signing: Option<&Secret>,
        validation: Option<&Secret>,
    ) -> Result<Self, AuthConfigError> {
        Ok(Self {
            signing: parse_optional("signing_key", signing)?,
            validation: parse_optional("validation_key", validation)?,
        })
    }

    /// Whether any key is configured.
    pub(crate) fn is_empty(&self) -> bool {
        self.signing.is_none() && self.validation.is_none()
    }

    /// The configured keys, signing key first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &LocalKey> {
        self.signing.iter().chain(self.validation.iter())
    }

    /// Whether a token `kid` names one of the gateway's own keys.
    pub(crate) fn is_local_kid(kid: &str) -> bool {
        kid == SIGNING_KID || kid == VALIDATION_KID
    }
}

/// The only algorithm the gateway signs its own tokens with.
pub(crate) const LOCAL_ALGORITHM: Algorithm = Algorithm::RS256;

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
        decoding,
        encoding,
    })
}

/// The DER `RSAPublicKey` of a key pair.
fn public_der(pair: &ring::rsa::KeyPair) -> &[u8] {
    pair.public().as_ref()
}
