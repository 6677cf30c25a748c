//! Checks of the JWS protected header that `jsonwebtoken` does not make.
//!
//! `crit` (RFC 7515 §4.1.11) lists header extensions the recipient must understand, or refuse
//! the token. The gateway understands none, so a header with a `crit` member is refused.
//! `jsonwebtoken` 9 parses the header into its own `Header` struct, which drops `crit`; the
//! header segment is therefore decoded here (base64url JSON) on its own.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why a header was refused (for the debug log; the caller answers 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderRefusal {
    /// The first segment is not base64url-encoded JSON object.
    Unreadable,
    /// A `crit` member: extensions the gateway does not understand.
    Critical,
}

/// Refuses a token whose protected header names critical extensions (or cannot be read).
pub(crate) fn check_header(token: &str) -> Result<(), HeaderRefusal> {
    let (segment, _) = token.split_once('.').ok_or(HeaderRefusal::Unreadable)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| HeaderRefusal::Unreadable)?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|_| HeaderRefusal::Unreadable)?;
    if header.contains_key("crit") {
        return Err(HeaderRefusal::Critical);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str) -> String {
        format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(header))
    }

    #[test]
    fn crit_is_refused_whatever_it_names() {
        assert_eq!(check_header(&token(r#"{"alg":"RS256","kid":"k"}"#)), Ok(()));
        for crit in [r#"["exp"]"#, r#"["b64"]"#, "[]", r#""x""#, "null"] {
            let header = format!(r#"{{"alg":"RS256","crit":{crit}}}"#);
            assert_eq!(
                check_header(&token(&header)),
                Err(HeaderRefusal::Critical),
                "{crit}"
            );
        }
    }

    #[test]
    fn unreadable_headers_are_refused_without_panicking() {
        for bad in [
            "",
            ".",
            "no-dot",
            "!!!.e30.x",
            "W10.e30.x",
            "e30",
            "eyJ.e30.x",
        ] {
            assert_eq!(check_header(bad), Err(HeaderRefusal::Unreadable), "{bad}");
        }
        // Padded base64url is tolerated.
        let padded = format!("{}==.e30.x", URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#));
        assert_eq!(check_header(&padded), Ok(()));
    }
}
