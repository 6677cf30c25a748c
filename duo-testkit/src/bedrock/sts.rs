//! Fake AWS STS for `AssumeRole` (the AWS Query protocol, version `2011-06-15`).
//!
//! [`FakeSts`] listens on `127.0.0.1:<random>` and answers `POST /` with a form body
//! `Action=AssumeRole&Version=2011-06-15&RoleArn=…&RoleSessionName=…[&ExternalId=…]`, as the
//! AWS SDKs send it, with the XML STS sends:
//!
//! ```text
//! <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
//!   <AssumeRoleResult>
//!     <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/<role>/<session></Arn>
//!       <AssumedRoleId>AROAFAKEROLEID0000001:<session></AssumedRoleId></AssumedRoleUser>
//!     <Credentials><AccessKeyId>…</AccessKeyId><SecretAccessKey>…</SecretAccessKey>
//!       <SessionToken>…</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
//!     <PackedPolicySize>6</PackedPolicySize>
//!   </AssumeRoleResult>
//!   <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata>
//! </AssumeRoleResponse>
//! ```
//!
//! Errors come as STS sends them: a status and `<ErrorResponse><Error><Type>Sender</Type>
//! <Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`. The fake
//! refuses, by itself, a request that is not SigV4-signed for the `sts` service (403
//! `MissingAuthenticationToken`), another action or version (400 `InvalidAction`), and one
//! without `RoleArn` or `RoleSessionName` (400 `MissingParameter`); [`FakeSts::deny`] makes it
//! refuse every request with 403 `AccessDenied`. Every request is recorded.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::task::JoinHandle;

use super::auth::Auth;

const REQUEST_ID: &str = "c6104cbe-af31-11e0-8154-cbc7ccf896c7";

/// The temporary credentials the fake hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedCredentials {
    /// `AccessKeyId` (temporary keys start with `ASIA`).
    pub access_key_id: String,
    /// `SecretAccessKey`.
    pub secret_access_key: String,
    /// `SessionToken`, which the caller then sends as `x-amz-security-token`.
    pub session_token: String,
    /// `Expiration`, an ISO 8601 UTC time.
    pub expiration: String,
}

impl Default for AssumedCredentials {
    /// `ASIAFAKEASSUMEDKEY01`, a fake secret and token, expiring in 2099.
    fn default() -> Self {
        Self {
            access_key_id: "ASIAFAKEASSUMEDKEY01".into(),
            secret_access_key: "fakeAssumedSecretKey/K7MDENG/bPxRfiCYEXAMPLE".into(),
            session_token: "FwoGZXIvYXdzEFAKEASSUMEDROLESESSIONTOKEN".into(),
            expiration: "2099-01-01T00:00:00Z".into(),
        }
    }
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct StsRequest {
    /// The form parameters (`Action`, `Version`, `RoleArn`, `RoleSessionName`, `ExternalId`, …).
    pub params: BTreeMap<String, String>,
    /// All request headers.
    pub headers: HeaderMap,
    /// How the request authenticated (the caller's base credentials, for `AssumeRole`).
    pub auth: Auth,
}

impl StsRequest {
    /// A form parameter, if sent.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

#[derive(Debug)]
struct Shared {
    credentials: Mutex<AssumedCredentials>,
    denial: Mutex<Option<String>>,
    requests: Mutex<Vec<StsRequest>>,
}

/// A fake STS endpoint on loopback; stops when dropped.
#[derive(Debug)]
pub struct FakeSts {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeSts {
    /// Starts the server on `127.0.0.1` with a random port, handing out
    /// [`AssumedCredentials::default`].
    ///
    /// # Panics
    /// If no loopback port can be bound (a broken test environment).
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            credentials: Mutex::new(AssumedCredentials::default()),
            denial: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/", post(handle))
            .with_state(shared.clone());
        #[allow(clippy::expect_used)]
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for FakeSts");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("local address of FakeSts");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, shared, task }
    }

    /// The endpoint URL to give the SDK (`http://127.0.0.1:<port>`).
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Hands out `credentials` from now on.
    pub fn set_credentials(&self, credentials: AssumedCredentials) {
        *self
            .shared
            .credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = credentials;
    }

    /// Refuses every request from now on with 403 `AccessDenied` and `message`.
    pub fn deny(&self, message: impl Into<String>) {
        *self
            .shared
            .denial
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(message.into());
    }

    /// The requests received so far, oldest first.
    #[must_use]
    pub fn requests(&self) -> Vec<StsRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for FakeSts {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `application/x-www-form-urlencoded` pairs (`+` is a space, `%XX` a byte).
fn form_params(body: &[u8]) -> BTreeMap<String, String> {
    let Ok(mut url) = reqwest::Url::parse("http://sts.invalid/") else {
        return BTreeMap::new();
    };
    url.set_query(Some(&String::from_utf8_lossy(body)));
    url.query_pairs().into_owned().collect()
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let request = StsRequest {
        params: form_params(&body),
        auth: Auth::of(&headers),
        headers,
    };
    let reply = answer(&shared, &request);
    shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(request);
    reply
}

fn answer(shared: &Shared, request: &StsRequest) -> Response {
    let signed_for_sts = matches!(&request.auth, Auth::SigV4 { service, .. } if service == "sts");
    if !signed_for_sts {
        return error(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        );
    }
    if request.param("Action") != Some("AssumeRole")
        || request.param("Version") != Some("2011-06-15")
    {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            "Could not find operation for version",
        );
    }
    let (Some(role_arn), Some(session)) =
        (request.param("RoleArn"), request.param("RoleSessionName"))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            "The request must contain the parameters RoleArn and RoleSessionName",
        );
    };
    let denial = shared
        .denial
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Some(message) = denial {
        return error(StatusCode::FORBIDDEN, "AccessDenied", &message);
    }
    let credentials = shared
        .credentials
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let role_name = role_arn.rsplit('/').next().unwrap_or("role");
    let body = format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n\
         <AssumeRoleResult>\n\
         <AssumedRoleUser>\n\
         <Arn>arn:aws:sts::123456789012:assumed-role/{role}/{session}</Arn>\n\
         <AssumedRoleId>AROAFAKEROLEID0000001:{session}</AssumedRoleId>\n\
         </AssumedRoleUser>\n\
         <Credentials>\n\
         <AccessKeyId>{key}</AccessKeyId>\n\
         <SecretAccessKey>{secret}</SecretAccessKey>\n\
         <SessionToken>{token}</SessionToken>\n\
         <Expiration>{expiration}</Expiration>\n\
         </Credentials>\n\
         <PackedPolicySize>6</PackedPolicySize>\n\
         </AssumeRoleResult>\n\
         <ResponseMetadata>\n\
         <RequestId>{REQUEST_ID}</RequestId>\n\
         </ResponseMetadata>\n\
         </AssumeRoleResponse>\n",
        role = xml_escape(role_name),
        session = xml_escape(session),
        key = xml_escape(&credentials.access_key_id),
        secret = xml_escape(&credentials.secret_access_key),
        token = xml_escape(&credentials.session_token),
        expiration = xml_escape(&credentials.expiration),
    );
    xml(StatusCode::OK, body)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n\
         <Error>\n<Type>Sender</Type>\n<Code>{}</Code>\n<Message>{}</Message>\n</Error>\n\
         <RequestId>{REQUEST_ID}</RequestId>\n</ErrorResponse>\n",
        xml_escape(code),
        xml_escape(message),
    );
    xml(status, body)
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/xml")),
            (
                header::HeaderName::from_static("x-amzn-requestid"),
                HeaderValue::from_static(REQUEST_ID),
            ),
        ],
        body,
    )
        .into_response()
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SIGNED: &str = "AWS4-HMAC-SHA256 Credential=AKIDBASE/20240620/us-east-1/sts/aws4_request, \
                          SignedHeaders=host;x-amz-date, Signature=00";

    async fn post(sts: &FakeSts, auth: Option<&str>, form: &str) -> (u16, String) {
        let mut request = reqwest::Client::new()
            .post(sts.url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    #[tokio::test]
    async fn assume_role_answers_credentials_and_records_the_form() {
        let sts = FakeSts::start().await;
        let form = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fbedrock-caller\
                    &RoleSessionName=duo-gateway&ExternalId=ext+id%2F1";
        let (status, body) = post(&sts, Some(SIGNED), form).await;
        assert_eq!(status, 200);
        assert!(body.starts_with(
            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
        ));
        assert!(
            body.contains("<AccessKeyId>ASIAFAKEASSUMEDKEY01</AccessKeyId>"),
            "{body}"
        );
        assert!(
            body.contains("<Expiration>2099-01-01T00:00:00Z</Expiration>"),
            "{body}"
        );
        assert!(
            body.contains("assumed-role/bedrock-caller/duo-gateway</Arn>"),
            "{body}"
        );
        let request = &sts.requests()[0];
        assert_eq!(
            request.param("RoleArn"),
            Some("arn:aws:iam::123456789012:role/bedrock-caller")
        );
        assert_eq!(request.param("ExternalId"), Some("ext id/1"));
        assert_eq!(request.auth.access_key_id(), Some("AKIDBASE"));
    }

    #[tokio::test]
    async fn unsigned_incomplete_and_denied_requests_get_sts_errors() {
        let sts = FakeSts::start().await;
        let full =
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/r&RoleSessionName=s";
        let (status, body) = post(&sts, None, full).await;
        assert_eq!(status, 403);
        assert!(
            body.contains("<Code>MissingAuthenticationToken</Code>"),
            "{body}"
        );
        let (status, body) = post(&sts, Some(SIGNED), "Action=AssumeRole&Version=2011-06-15").await;
        assert_eq!(status, 400);
        assert!(body.contains("<Code>MissingParameter</Code>"), "{body}");
        sts.deny("User: arn:aws:iam::1:user/u is not authorized to perform: sts:AssumeRole");
        let (status, body) = post(&sts, Some(SIGNED), full).await;
        assert_eq!(status, 403);
        assert!(body.contains("<Code>AccessDenied</Code>") && body.contains("<Type>Sender</Type>"));
        assert_eq!(sts.requests().len(), 3);
    }
}
