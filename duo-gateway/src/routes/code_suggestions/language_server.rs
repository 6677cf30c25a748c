//! Whether the client's GitLab Language Server sends "advanced context" that the v3/v4 routes
//! should put into the prompt.
//!
//! As the reference: `code_context` components are used only when `X-Gitlab-Language-Server-Version`
//! is at least 7.17.1 (the first version whose context the reference trusts). Without the
//! header, or with an unreadable one, they are ignored.

use axum::http::HeaderMap;

/// The header naming the client's Language Server version.
pub(super) const LANGUAGE_SERVER_VERSION_HEADER: &str = "x-gitlab-language-server-version";

/// The first Language Server version whose `code_context` is used.
const ADVANCED_CONTEXT_SINCE: (u64, u64, u64) = (7, 17, 1);

/// Whether the request's Language Server version supports advanced context.
pub(super) fn supports_advanced_context(headers: &HeaderMap) -> bool {
    headers
        .get(LANGUAGE_SERVER_VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| version_supports(v, ADVANCED_CONTEXT_SINCE))
}

/// Compares a version string (`7.17.1`, `v8.0`, `7.18.0-rc.1`, `7.17.1+build`) with `min`.
/// Missing parts count as 0; a pre-release is below its release; junk is unsupported.
fn version_supports(version: &str, min: (u64, u64, u64)) -> bool {
    let v = version.trim();
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let release_end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (release, rest) = v.split_at(release_end);
    let mut parts = [0_u64; 3];
    for (slot, part) in parts.iter_mut().zip(release.split('.')) {
        let Ok(n) = part.parse::<u64>() else {
            return false;
        };
        *slot = n;
    }
    let pre_release = !rest.is_empty() && !rest.starts_with('+');
    let release = (parts[0], parts[1], parts[2]);
    release > min || (release == min && !pre_release)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_releases() {
        let min = ADVANCED_CONTEXT_SINCE;
        for yes in [
            "7.17.1",
            "v7.17.1",
            "7.17.2",
            "7.18",
            "8",
            "10.0.0",
            "7.17.1+abc",
            " 7.20.0 ",
        ] {
            assert!(version_supports(yes, min), "{yes}");
        }
        for no in [
            "7.17.0",
            "7.17.1-rc.1",
            "7.17.1rc1",
            "7.9.9",
            "6.99.99",
            "",
            "abc",
            "x.1.2",
            "7..1",
        ] {
            assert!(!version_supports(no, min), "{no}");
        }
        assert!(version_supports("7.18.0-rc.1", min));
    }

    #[test]
    fn the_header_gates_advanced_context() {
        let mut headers = HeaderMap::new();
        assert!(!supports_advanced_context(&headers));
        headers.insert(LANGUAGE_SERVER_VERSION_HEADER, "7.17.1".parse().unwrap());
        assert!(supports_advanced_context(&headers));
        headers.insert(LANGUAGE_SERVER_VERSION_HEADER, "7.1.0".parse().unwrap());
        assert!(!supports_advanced_context(&headers));
    }
}
