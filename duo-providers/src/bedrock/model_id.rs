//! What follows `bedrock/` in a model identifier, as the `modelId` of a Converse call.
//!
//! - a model id (`anthropic.claude-3-5-sonnet-20240620-v1:0`) or an inference profile id, with
//!   its cross-region prefix (`us.`, `eu.`, `apac.`, `global.`, …): sent unchanged;
//! - an ARN (`arn:aws:bedrock:<region>:<account>:<type>/<id>`: an application inference
//!   profile, a system inference profile, a provisioned or custom model, a foundation model, a
//!   prompt): sent unchanged; the SDK percent-encodes it into one path segment
//!   (`/model/arn%3Aaws%3Abedrock%3A…%3Aapplication-inference-profile%2Fabcd1234/converse`);
//! - either of them after LiteLLM's route segment `converse/` (`bedrock/converse/<ARN>`, as GitLab
//!   spells application inference profiles): the segment is dropped, since every call is a
//!   Converse call anyway.
//!
//! Anything else (another route such as `invoke/`, a `/` outside an ARN, spaces, `?`, `%`, …) is
//! refused with [`Error::InvalidRequest`] before any request is made.

use duo_core::Error;

/// The longest `modelId` Bedrock accepts.
const MAX_LEN: usize = 2048;

/// The ARN resource types a Converse `modelId` can name.
const ARN_RESOURCES: &[&str] = &[
    "application-inference-profile",
    "inference-profile",
    "foundation-model",
    "provisioned-model",
    "custom-model",
    "custom-model-deployment",
    "imported-model",
    "prompt",
    "default-prompt-router",
    "prompt-router",
];

/// The Converse `modelId` for `model` (the identifier's part after `bedrock/`).
pub(crate) fn converse_model_id(model: &str) -> Result<&str, Error> {
    let id = model.strip_prefix("converse/").unwrap_or(model);
    let valid = !id.is_empty()
        && id.len() <= MAX_LEN
        && if id.starts_with("arn:") {
            valid_arn(id)
        } else {
            id.bytes().all(is_id_byte)
        };
    if valid {
        return Ok(id);
    }
    let shown: String = model.chars().take(120).collect();
    let more = if shown.len() < model.len() { "…" } else { "" };
    let hint = if model.starts_with("invoke/") {
        "; Bedrock models are called through Converse only"
    } else {
        ""
    };
    Err(Error::InvalidRequest(format!(
        "'bedrock/{shown}{more}' names no Bedrock model: expected bedrock/<model id>, \
         bedrock/<inference profile id> (e.g. us.anthropic.claude-sonnet-4-5-20250929-v1:0), or \
         bedrock/converse/<model or inference profile ARN>{hint}"
    )))
}

/// The characters of model and inference profile ids (`[A-Za-z0-9._:-]`).
fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-')
}

/// `arn:<partition>:bedrock:<region>:<account>:<type>/<id>`; the account is 12 digits or empty
/// (foundation models), the region may be empty only without an account.
fn valid_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "bedrock", region, account, resource] = parts[..] else {
        return false;
    };
    let partition_ok = partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        });
    let region_ok = region.len() <= 20
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let account_ok =
        account.is_empty() || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    let resource_ok = resource.split_once('/').is_some_and(|(kind, id)| {
        ARN_RESOURCES.contains(&kind)
            && !id.is_empty()
            && !id.starts_with('/')
            && !id.ends_with('/')
            && !id.contains("//")
            && id.bytes().all(|b| is_id_byte(b) || b == b'/')
    });
    partition_ok && region_ok && account_ok && resource_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE_ARN: &str =
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abcd1234";

    #[test]
    fn ids_and_profile_ids_pass_unchanged() {
        for id in [
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "eu.meta.llama3-2-3b-instruct-v1:0",
            "apac.anthropic.claude-3-5-sonnet-20241022-v2:0",
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "mistral.mixtral-8x7b-instruct-v0:1",
            "m",
        ] {
            assert_eq!(converse_model_id(id).unwrap(), id);
            assert_eq!(converse_model_id(&format!("converse/{id}")).unwrap(), id);
        }
    }

    #[test]
    fn arns_pass_with_the_converse_segment_dropped() {
        assert_eq!(
            converse_model_id(&format!("converse/{PROFILE_ARN}")).unwrap(),
            PROFILE_ARN
        );
        for arn in [
            PROFILE_ARN,
            "arn:aws:bedrock:eu-central-1:123456789012:inference-profile/eu.anthropic.claude-3-5-sonnet-20240620-v1:0",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/abc123def456",
            "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/abc123def456",
            "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:application-inference-profile/x1",
        ] {
            assert_eq!(converse_model_id(arn).unwrap(), arn, "{arn}");
        }
    }

    #[test]
    fn anything_else_is_an_invalid_request() {
        let long = "a".repeat(MAX_LEN + 1);
        for bad in [
            "",
            "converse/",
            "invoke/anthropic.claude-3-5-sonnet-20240620-v1:0",
            "converse/converse/anthropic.claude",
            "anthropic/claude",
            "claude 3",
            "claude?x=1",
            "claude%2F",
            "arn:aws:iam::123456789012:role/demo",
            "arn:aws:bedrock:us-east-1:123456789012:agent/abcd",
            "arn:aws:bedrock:us-east-1:1234:application-inference-profile/abcd",
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/",
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile",
            "arn:aws:bedrock:US-EAST-1:123456789012:application-inference-profile/abcd",
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/ab cd",
            long.as_str(),
        ] {
            let err = converse_model_id(bad).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidRequest(m) if m.contains("names no Bedrock model")),
                "{bad}: {err:?}"
            );
        }
        let err = converse_model_id("invoke/anthropic.claude").unwrap_err();
        assert!(err.to_string().contains("through Converse only"), "{err}");
        let err = converse_model_id(&long).unwrap_err();
        assert!(
            err.to_string().len() < 600,
            "long ids are shortened in the message"
        );
    }
}
