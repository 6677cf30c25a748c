//! Tokens remembered after verification (`VerifiedTokens`): the same token again is accepted,
//! but its headers are checked on every request, and a copy differing in one character is
//! verified on its own, and refused.

use super::harness::*;

#[tokio::test]
async fn a_remembered_token_still_has_its_headers_checked_and_a_tampered_copy_is_refused() {
    let oidc = FakeOidc::start().await;
    let app = App::start(&config_for(&oidc)).await;
    let token = oidc.token(&["complete_code"]);
    assert_eq!(app.whoami(gitlab_headers(&token)).await.0, StatusCode::OK);

    // verified a moment ago, sent with another instance's header: refused
    let headers = with(
        gitlab_headers(&token),
        "x-gitlab-instance-id",
        "another-instance",
    );
    assert_eq!(
        app.whoami(headers).await,
        (
            StatusCode::UNAUTHORIZED,
            error("Header mismatch 'X-Gitlab-Instance-Id'")
        )
    );

    // one character of the signature changed, and the claims swapped for another token's
    let mut forged: Vec<char> = token.chars().collect();
    let at = forged.len() - 10;
    forged[at] = if forged[at] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    let (head, rest) = token.split_once('.').unwrap();
    let signature = rest.rsplit_once('.').unwrap().1;
    let wider = oidc.token(&["complete_code", "duo_chat"]);
    let other_payload = wider.split('.').nth(1).unwrap();
    let swapped = format!("{head}.{other_payload}.{signature}");
    for bad in [forged, swapped] {
        assert_eq!(
            app.whoami(gitlab_headers(&bad)).await,
            (
                StatusCode::UNAUTHORIZED,
                error("Forbidden by auth provider")
            ),
            "{bad}"
        );
    }

    // and the genuine token is still accepted
    let (status, body) = app.whoami(gitlab_headers(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
