//! [`Caller`]: who sent a request, as the token (or the bypass) says.

use duo_core::UnitPrimitive;

/// The authenticated sender of a request; the middleware stores it in the request extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`: the GitLab instance for instance tokens, the global user id for gateway tokens.
    pub subject: String,
    /// The token's `iss` (`gitlab-ai-gateway` for gateway-issued tokens, `bypass` for bypassed requests).
    pub issuer: String,
    /// The GitLab instance id: the `gitlab_instance_id` claim, else the `X-Gitlab-Instance-Id` header.
    pub gitlab_instance_id: Option<String>,
    /// `saas` or `self-managed`: the `gitlab_realm` claim, else the `X-Gitlab-Realm` header.
    pub gitlab_realm: Option<String>,
    /// The `gitlab_instance_uid` claim (self-managed instances).
    pub gitlab_instance_uid: Option<String>,
    /// The `X-Gitlab-Global-User-Id` header, if sent.
    pub global_user_id: Option<String>,
    /// The unit primitives the token grants (its `scopes` claim).
    pub scopes: Vec<String>,
    /// Whether the gateway signed the token itself (issuer `gitlab-ai-gateway`).
    pub gateway_issued: bool,
    /// Whether authentication was bypassed by configuration (debug caller with every permission).
    pub bypassed: bool,
}

impl Caller {
    /// Issuer recorded for bypassed requests.
    pub const BYPASS_ISSUER: &'static str = "bypass";

    /// Whether the caller may use the feature guarded by `up` (always, when bypassed).
    #[must_use]
    pub fn can(&self, up: UnitPrimitive) -> bool {
        self.bypassed || self.scopes.iter().any(|s| s == up.as_str())
    }

    /// Whether the caller holds at least one of `ups`.
    #[must_use]
    pub fn can_any(&self, ups: &[UnitPrimitive]) -> bool {
        ups.iter().any(|up| self.can(*up))
    }

    /// A caller with exactly `scopes` and no GitLab context, as a verified token without
    /// context claims gives: for tests of a route's unit-primitive checks.
    #[must_use]
    pub fn with_scopes(
        subject: impl Into<String>,
        issuer: impl Into<String>,
        scopes: &[&str],
    ) -> Self {
        Self {
            subject: subject.into(),
            issuer: issuer.into(),
            gitlab_instance_id: None,
            gitlab_realm: None,
            gitlab_instance_uid: None,
            global_user_id: None,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            gateway_issued: false,
            bypassed: false,
        }
    }

    /// The debug caller of a bypassed request: every scope, context taken from the headers.
    pub(crate) fn bypass(
        global_user_id: Option<String>,
        instance_id: Option<String>,
        realm: Option<String>,
    ) -> Self {
        Self {
            subject: global_user_id.clone().unwrap_or_else(|| "debug".to_owned()),
            issuer: Self::BYPASS_ISSUER.to_owned(),
            gitlab_instance_id: instance_id,
            gitlab_realm: realm,
            gitlab_instance_uid: None,
            global_user_id,
            scopes: UnitPrimitive::ALL
                .iter()
                .map(|up| up.as_str().to_owned())
                .collect(),
            gateway_issued: false,
            bypassed: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(scopes: &[&str]) -> Caller {
        Caller::with_scopes("s", "i", scopes)
    }

    #[test]
    fn can_checks_scope_membership() {
        let c = caller(&["complete_code", "explain_code"]);
        assert!(c.can(UnitPrimitive::CompleteCode));
        assert!(!c.can(UnitPrimitive::GenerateCode));
        assert!(c.can_any(&[UnitPrimitive::GenerateCode, UnitPrimitive::ExplainCode]));
        assert!(!c.can_any(&[UnitPrimitive::GenerateCode, UnitPrimitive::DuoChat]));
        assert!(!c.can_any(&[]));
    }

    #[test]
    fn bypassed_caller_can_everything() {
        let c = Caller::bypass(Some("42".into()), None, Some("self-managed".into()));
        assert!(c.bypassed);
        assert_eq!(c.subject, "42");
        assert!(UnitPrimitive::ALL.iter().all(|up| c.can(*up)));
        assert_eq!(c.scopes.len(), UnitPrimitive::ALL.len());
        let mut none = caller(&[]);
        none.bypassed = true;
        assert!(none.can(UnitPrimitive::DuoChat));
    }
}
