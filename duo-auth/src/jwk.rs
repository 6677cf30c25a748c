//! [`OidcKey`]: one published JWK turned into a verification key, with the algorithms it may
//! verify (its `alg`, else those of its key type; symmetric keys never).

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

/// One issuer key, ready to verify with.
pub(crate) struct OidcKey {
    /// The JWK's `kid`.
    pub(crate) kid: Option<String>,
    /// The public key.
    pub(crate) decoding: DecodingKey,
    /// Audience, leeway and the algorithms this key may verify.
    pub(crate) validation: Validation,
}

/// Turns one JWK into a verification key (checks of `base` plus its algorithms), or says why
/// it cannot verify tokens.
pub(crate) fn usable_key(raw: serde_json::Value, base: &Validation) -> Result<OidcKey, String> {
    let jwk: Jwk = serde_json::from_value(raw).map_err(|e| format!("unsupported JWK: {e}"))?;
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return Err("not a signing key (use)".into());
    }
    if let Some(ops) = &jwk.common.key_operations
        && !ops.contains(&KeyOperations::Verify)
    {
        return Err("not a verification key (key_ops)".into());
    }
    let algorithms = algorithms_for(&jwk)?;
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| format!("bad key material: {e}"))?;
    let mut validation = base.clone();
    validation.algorithms = algorithms;
    Ok(OidcKey {
        kid: jwk.common.key_id,
        decoding,
        validation,
    })
}

/// The signature algorithms a JWK may verify: its `alg` if given, else those of its key type.
/// Symmetric (`oct`) keys are refused: a published key must never verify HMAC tokens.
fn algorithms_for(jwk: &Jwk) -> Result<Vec<Algorithm>, String> {
    let family: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => return Err("unsupported EC curve".into()),
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            vec![Algorithm::EdDSA]
        }
        AlgorithmParameters::OctetKeyPair(_) => return Err("unsupported OKP curve".into()),
        AlgorithmParameters::OctetKey(_) => return Err("symmetric keys are not accepted".into()),
    };
    match jwk.common.key_algorithm {
        None => Ok(family),
        Some(alg) => {
            let alg: Algorithm = alg
                .to_string()
                .parse()
                .map_err(|_| format!("alg {alg} is not a signature algorithm"))?;
            if family.contains(&alg) {
                Ok(vec![alg])
            } else {
                Err(format!("alg {alg:?} does not match the key type"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(v: serde_json::Value) -> Jwk {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn algorithms_follow_the_jwk() {
        let rsa = serde_json::json!({"kty":"RSA","n":"AQAB","e":"AQAB"});
        assert_eq!(algorithms_for(&jwk(rsa.clone())).unwrap().len(), 6);
        let mut with_alg = rsa;
        with_alg["alg"] = "RS256".into();
        assert_eq!(
            algorithms_for(&jwk(with_alg.clone())).unwrap(),
            vec![Algorithm::RS256]
        );
        with_alg["alg"] = "ES256".into();
        assert!(algorithms_for(&jwk(with_alg.clone())).is_err());
        with_alg["alg"] = "RSA-OAEP".into();
        assert!(algorithms_for(&jwk(with_alg)).is_err());
        let oct = serde_json::json!({"kty":"oct","k":"c2VjcmV0"});
        assert!(algorithms_for(&jwk(oct)).is_err());
        let ec = serde_json::json!({"kty":"EC","crv":"P-256","x":"AA","y":"AA"});
        assert_eq!(algorithms_for(&jwk(ec)).unwrap(), vec![Algorithm::ES256]);
    }
}
