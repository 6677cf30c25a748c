//! RSA keys for tests only (see `keys/README.md`): a gateway signing key and a second key to
//! validate with during a rotation. Never use them anywhere else.

/// An RSA private key in PKCS#8 PEM.
pub const SIGNING_KEY: &str = include_str!("keys/signing_key.pem");

/// A second RSA private key, in PKCS#1 PEM (`-traditional`), so both encodings are exercised.
pub const VALIDATION_KEY: &str = include_str!("keys/validation_key.pem");
