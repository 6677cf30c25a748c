//! The fake's routes: the token endpoint with Google's checks of a JWT-bearer assertion, and the
//! metadata server's token, project id and e-mail.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use super::{
    CLIENT_EMAIL, JWT_BEARER_GRANT, METADATA_PROJECT_PATH, METADATA_TOKEN_PATH, PRIVATE_KEY_ID,
    PROJECT_ID, Shared, form, lock,
};
use crate::openai::RecordedRequest;

/// Largest request body the fake reads.
const BODY_LIMIT: usize = 1024 * 1024;

/// The metadata server's path of the default service account's e-mail.
const METADATA_EMAIL_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/email";

/// Google's words for a JWT whose `iat`/`exp` it will not take.
const SHORT_LIVED: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a \
                           reasonable timeframe. Check your iat and exp values in the JWT claim.";
const BAD_SIGNATURE: &str = "Invalid JWT Signature.";

/// A refusal of the token endpoint: `error` and `error_description`.
type Refusal = (&'static str, String);

pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let received_at = Instant::now();
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
    let recorded = RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_owned(), value)
            })
            .collect(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        raw_body: String::from_utf8_lossy(&bytes).into_owned(),
        peer,
        received_at,
    };
    lock(&shared.requests).push(recorded.clone());

    match (recorded.method.as_str(), recorded.path.as_str()) {
        ("POST", "/token") => token_endpoint(&shared, &recorded),
        ("GET", path) if path == "/" || path.starts_with("/computeMetadata/") => {
            metadata(&shared, &recorded)
        }
        _ => text(404, "text/plain; charset=utf-8", "Not Found".into()),
    }
}

fn token_endpoint(shared: &Shared, recorded: &RecordedRequest) -> Response {
    if let Some((status, body)) = lock(&shared.failures).pop_front() {
        return json_response(status, &body, true);
    }
    match verify(shared, recorded) {
        Ok(claims) => {
            *lock(&shared.last_claims) = Some(claims);
            json_response(200, &issue(shared), true)
        }
        Err((error, description)) => json_response(
            400,
            &json!({"error": error, "error_description": description}),
            true,
        ),
    }
}

/// A new token and its JSON answer.
fn issue(shared: &Shared) -> Value {
    let expires_in = shared.expires_in.load(Ordering::SeqCst);
    let token = shared.tokens.issue(Duration::from_secs(expires_in));
    shared.exchanges.fetch_add(1, Ordering::SeqCst);
    json!({"access_token": token, "expires_in": expires_in, "token_type": "Bearer"})
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Google's checks of a JWT-bearer grant, in order; `Ok` holds the assertion's claims.
fn verify(shared: &Shared, recorded: &RecordedRequest) -> Result<Value, Refusal> {
    let content_type = recorded.header("content-type").unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err((
            "invalid_request",
            "Invalid request: the body must be application/x-www-form-urlencoded.".into(),
        ));
    }
    let fields = form::parse(&recorded.raw_body);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let grant_type = field("grant_type").unwrap_or_default();
    if grant_type != JWT_BEARER_GRANT {
        return Err((
            "unsupported_grant_type",
            format!("Invalid grant_type: {grant_type}"),
        ));
    }
    let assertion = field("assertion").unwrap_or_default();
    if assertion.is_empty() {
        return Err((
            "invalid_request",
            "Missing required parameter: assertion".into(),
        ));
    }
    let claims =
        verified_claims(shared, assertion).ok_or(("invalid_grant", BAD_SIGNATURE.into()))?;

    if claims.get("iss").and_then(Value::as_str) != Some(CLIENT_EMAIL) {
        return Err(("invalid_grant", "Invalid grant: account not found".into()));
    }
    let token_uri = shared.token_uri();
    if claims.get("aud").and_then(Value::as_str) != Some(token_uri.as_str()) {
        return Err((
            "invalid_grant",
            format!("Invalid JWT: Failed audience check. The right audience is {token_uri}"),
        ));
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    let now = now();
    match (time("iat"), time("exp")) {
        (Some(iat), Some(exp))
            if exp > now && iat <= now + 60 && exp >= iat && exp - iat <= 3600 => {}
        _ => return Err(("invalid_grant", SHORT_LIVED.into())),
    }
    if claims
        .get("scope")
        .and_then(Value::as_str)
        .is_none_or(|scope| scope.split_whitespace().next().is_none())
    {
        return Err((
            "invalid_scope",
            "Empty or missing scope not allowed.".into(),
        ));
    }
    Ok(claims)
}

/// The claims of `jwt` if it is a JWT signed RS256 by the service account's key (and names that
/// key, if it names one).
fn verified_claims(shared: &Shared, jwt: &str) -> Option<Value> {
    let mut segments = jwt.split('.');
    let (header, claims, signature) = (segments.next()?, segments.next()?, segments.next()?);
    if segments.next().is_some() {
        return None;
    }
    let decode = |segment: &str| -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?;
        serde_json::from_slice::<Value>(&bytes)
            .ok()
            .filter(Value::is_object)
    };
    let head = decode(header)?;
    if head.get("alg").and_then(Value::as_str) != Some("RS256") {
        return None;
    }
    if let Some(kid) = head.get("kid")
        && kid.as_str() != Some(PRIVATE_KEY_ID)
    {
        return None;
    }
    let message = format!("{header}.{claims}");
    let valid = jsonwebtoken::crypto::verify(
        signature,
        message.as_bytes(),
        &shared.public_key,
        Algorithm::RS256,
    );
    valid.ok().filter(|ok| *ok)?;
    decode(claims)
}

fn metadata(shared: &Shared, recorded: &RecordedRequest) -> Response {
    if recorded.header("metadata-flavor") != Some("Google") {
        return flavored(forbidden(&recorded.path));
    }
    let plain = |body: &str| text(200, "text/plain; charset=utf-8", body.to_owned());
    let response = match recorded.path.as_str() {
        METADATA_TOKEN_PATH => match lock(&shared.failures).pop_front() {
            Some((status, body)) => json_response(status, &body, false),
            None => json_response(200, &issue(shared), false),
        },
        METADATA_PROJECT_PATH => plain(PROJECT_ID),
        METADATA_EMAIL_PATH => plain(CLIENT_EMAIL),
        "/" => plain("computeMetadata/\n"),
        _ => text(
            404,
            "text/html; charset=UTF-8",
            not_found_page(&recorded.path),
        ),
    };
    flavored(response)
}

/// Adds `Metadata-Flavor: Google`, as every metadata server answer has it.
fn flavored(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert("metadata-flavor", HeaderValue::from_static("Google"));
    response
}

/// GCE's answer to a request without `Metadata-Flavor: Google`: 403 and an HTML page.
fn forbidden(path: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  \
         <title>Error 403 (Forbidden)!!1</title>\n  \
         <p><b>403.</b> <ins>That\u{2019}s an error.</ins>\n  \
         <p>Your client does not have permission to get URL <code>{path}</code> from this \
         server. Missing Metadata-Flavor:Google header. <ins>That\u{2019}s all we know.</ins>\n"
    );
    text(403, "text/html; charset=UTF-8", page)
}

fn not_found_page(path: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  \
         <title>Error 404 (Not Found)!!1</title>\n  \
         <p><b>404.</b> <ins>That\u{2019}s an error.</ins>\n  \
         <p>The requested URL <code>{path}</code> was not found on this server.  \
         <ins>That\u{2019}s all we know.</ins>\n"
    )
}

/// A JSON answer: pretty-printed as Google's token endpoint writes it, or compact as the
/// metadata server does.
fn json_response(status: u16, body: &Value, pretty: bool) -> Response {
    let text_body = if pretty {
        serde_json::to_string_pretty(body).unwrap_or_default()
    } else {
        body.to_string()
    };
    let mut response = text(status, "application/json; charset=utf-8", text_body);
    if pretty {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-store, max-age=0, must-revalidate"),
        );
    }
    response
}

fn text(status: u16, content_type: &'static str, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
