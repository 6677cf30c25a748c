//! Known names (features, families, providers) as `'static` strings, so recording them costs
//! no allocation, and their bounded forms for metric labels.

use std::borrow::Cow;
use std::str::FromStr;

use duo_core::{Feature, ModelFamily, ProviderKind};

/// `feature` as given, borrowed from the known ids when it is one.
pub(crate) fn feature(feature: &str) -> Cow<'static, str> {
    match Feature::from_str(feature) {
        Ok(f) => Cow::Borrowed(f.as_str()),
        Err(_) => Cow::Owned(feature.to_owned()),
    }
}

/// `family` as given, borrowed from the known keys when it is one.
pub(crate) fn family(family: &str) -> Cow<'static, str> {
    match ModelFamily::KNOWN.iter().find(|f| f.key() == family) {
        Some(f) => Cow::Borrowed(f.key()),
        None => Cow::Owned(family.to_owned()),
    }
}

/// `provider` as given, borrowed from the known names when it is one.
pub(crate) fn provider(provider: &str) -> Cow<'static, str> {
    match ProviderKind::ALL.iter().find(|p| p.as_str() == provider) {
        Some(p) => Cow::Borrowed(p.as_str()),
        None => Cow::Owned(provider.to_owned()),
    }
}

/// A known family's canonical key (aliases and case folded), else `other`: a metric label.
pub(crate) fn bounded_family(family: &str) -> &'static str {
    if let Cow::Borrowed(key) = self::family(family) {
        return key;
    }
    let parsed = ModelFamily::parse(family);
    ModelFamily::KNOWN
        .iter()
        .find(|f| **f == parsed)
        .map_or("other", ModelFamily::key)
}

/// A known feature id, else `other`: a metric label.
pub(crate) fn bounded_feature(feature: &str) -> &'static str {
    Feature::from_str(feature).map_or("other", Feature::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_are_borrowed() {
        assert!(matches!(
            feature("code_completions"),
            Cow::Borrowed("code_completions")
        ));
        assert!(matches!(feature("made_up"), Cow::Owned(_)));
        let key = String::from("codestral");
        assert!(matches!(family(&key), Cow::Borrowed("codestral")));
        assert!(matches!(provider("bedrock"), Cow::Borrowed("bedrock")));
        assert_eq!(provider("scripted"), "scripted");
    }

    #[test]
    fn labels_are_bounded() {
        assert_eq!(bounded_family("codestral"), "codestral");
        assert_eq!(bounded_family("Codestral"), "codestral");
        assert_eq!(bounded_family("codestral-2501"), "codestral");
        assert_eq!(bounded_family("my-own-model-9000"), "other");
        assert_eq!(bounded_feature("code_completions"), "code_completions");
        assert_eq!(bounded_feature("anything at all"), "other");
    }
}
