//! Reading a GitLab route's JSON body: [`parse_body`] (length limits of `duo_core::limits`
//! first, then serde, a 422 naming the field on any failure) and the routes' own field limits
//! ([`check_len`]).

use serde_json::Value;

use crate::error::ApiError;

/// Checks that `value` has at most `max` characters; the error names the field.
///
/// # Errors
/// [`ApiError::Validation`] naming the field and the limit.
pub fn check_len(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    // Byte length bounds character count from above: most values skip the count.
    if value.len() > max && value.chars().count() > max {
        return Err(ApiError::Validation(format!(
            "{field}: must have at most {max} characters"
        )));
    }
    Ok(())
}

/// Checks an optional field with [`check_len`].
///
/// # Errors
/// As [`check_len`].
pub fn check_opt_len(field: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    value.map_or(Ok(()), |v| check_len(field, v, max))
}

/// Parses a JSON body, answering 422 with where and why it failed. Every string field is
/// checked against the length limits of `duo_core::limits` first.
///
/// # Errors
/// [`ApiError::Validation`] with serde's message, prefixed with the field's path when the JSON
/// is well-formed but does not fit, or naming the field over its length limit.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::Validation(
            "request body is empty; expected a JSON object".into(),
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::Validation(format!("invalid request body: {}", describe_json_error(&e)))
    })?;
    duo_core::limits::check_body(&value)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = describe_json_error(e.inner());
        ApiError::Validation(if path == "." {
            format!("invalid request body: {inner}")
        } else {
            format!("invalid request body: {path}: {inner}")
        })
    })
}

/// serde_json's message without echoing long values back.
fn describe_json_error(e: &serde_json::Error) -> String {
    let mut msg = e.to_string();
    if msg.len() > 300 {
        let mut cut = 300;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
        msg.push('…');
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{CodeSuggestionsRequest, PromptRequest};

    #[test]
    fn code_request_defaults() {
        let r: CodeSuggestionsRequest = parse_body(
            br#"{"current_file":{"file_name":"a.py","content_above_cursor":"x","content_below_cursor":""}}"#,
        )
        .unwrap();
        assert_eq!(r.prompt_version, 1);
        assert!(!r.stream);
        assert!(r.context.is_empty());
    }

    #[test]
    fn parse_errors_are_422_and_name_the_field() {
        let err = parse_body::<CodeSuggestionsRequest>(br#"{"current_file":{"file_name":1}}"#)
            .unwrap_err();
        let (status, detail, _) = err.status_and_detail();
        assert_eq!(status.as_u16(), 422);
        assert!(detail.contains("invalid type"), "{detail}");
        let err = parse_body::<CodeSuggestionsRequest>(br#"{}"#).unwrap_err();
        assert!(
            err.to_string().contains("missing field `current_file`"),
            "{err}"
        );
        let err = parse_body::<PromptRequest>(b"").unwrap_err();
        assert!(err.to_string().contains("empty"));
        let err = parse_body::<PromptRequest>(b"{} trailing").unwrap_err();
        assert!(err.to_string().contains("trailing"), "{err}");
    }

    #[test]
    fn length_checks_count_characters() {
        assert!(check_len("f", "ééé", 3).is_ok());
        let err = check_len("current_file.file_name", "abcd", 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "current_file.file_name: must have at most 3 characters"
        );
        assert!(check_opt_len("x", None, 0).is_ok());
    }
}
