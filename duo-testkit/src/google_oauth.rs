//! A fake Google access-token source: the OAuth 2.0 token endpoint (a service account's
//! JWT-bearer grant) and the GCE metadata server, in one in-process server on a random loopback
//! port.
//!
//! [`FakeGoogleOAuth`] owns a service account whose key file
//! ([`FakeGoogleOAuth::service_account_json`]) is what `gcloud iam service-accounts keys create`
//! writes, its `token_uri` pointing at this fake. The private key is [`crate::keys::SIGNING_KEY`].
//!
//! **Token endpoint**, `POST /token` (Google's `https://oauth2.googleapis.com/token`; RFC 7523):
//! the body is `application/x-www-form-urlencoded`
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`. The fake checks the
//! assertion as Google does and answers `200 application/json`
//! `{"access_token":"ya29.fake-<n>-<random>","expires_in":3599,"token_type":"Bearer"}`
//! (pretty-printed, as Google prints it; `expires_in` set with [`FakeGoogleOAuth::set_expires_in`]).
//! Refusals are `400` `{"error":…,"error_description":…}` in Google's words:
//!
//! | problem | `error` | `error_description` |
//! |---|---|---|
//! | body not a form | `invalid_request` | `Invalid request: the body must be application/x-www-form-urlencoded.` |
//! | another `grant_type` | `unsupported_grant_type` | `Invalid grant_type: <x>` |
//! | no `assertion` | `invalid_request` | `Missing required parameter: assertion` |
//! | not a JWT, `alg` not RS256, `kid` not the key file's `private_key_id`, bad signature | `invalid_grant` | `Invalid JWT Signature.` |
//! | `iss` not the key file's `client_email` | `invalid_grant` | `Invalid grant: account not found` |
//! | `aud` not the token URI | `invalid_grant` | `Invalid JWT: Failed audience check. The right audience is <token_uri>` |
//! | `iat`/`exp` missing or not integers, `exp <= now`, `iat > now + 60`, `exp - iat > 3600` | `invalid_grant` | `Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.` |
//! | `scope` missing or blank | `invalid_scope` | `Empty or missing scope not allowed.` |
//!
//! **Metadata server** (what `GCE_METADATA_HOST` points at, [`FakeGoogleOAuth::metadata_host`]):
//! `GET /computeMetadata/v1/instance/service-accounts/default/token` (an optional `?scopes=` is
//! recorded) answers the same token JSON, compact, as the metadata server writes it;
//! `GET /computeMetadata/v1/project/project-id` the project id as `text/plain`, `…/default/email`
//! the account's e-mail. Without the request header `Metadata-Flavor: Google` they answer `403`
//! with GCE's HTML error page. Every metadata answer carries `Metadata-Flavor: Google`.
//!
//! [`FakeGoogleOAuth::fail_next`] queues a failure (e.g. a `503`) for the next token request of
//! either kind, used once. Issued tokens live in a table a [`crate::vertex::FakeVertex`] can
//! [`trust`](crate::vertex::FakeVertex::trust), so the fake Vertex accepts exactly the tokens
//! this fake issued and has not seen expire.
//!
//! ```
//! use duo_testkit::google_oauth::FakeGoogleOAuth;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let oauth = FakeGoogleOAuth::start().await;
//! let key_file: serde_json::Value = serde_json::from_str(&oauth.service_account_json()).unwrap();
//! assert_eq!(key_file["token_uri"], oauth.token_uri());
//!
//! let token: serde_json::Value = reqwest::Client::new()
//!     .get(format!("http://{}/computeMetadata/v1/instance/service-accounts/default/token",
//!                  oauth.metadata_host()))
//!     .header("Metadata-Flavor", "Google")
//!     .send().await.unwrap()
//!     .json().await.unwrap();
//! let access_token = token["access_token"].as_str().unwrap();
//! assert!(access_token.starts_with("ya29.fake-1-"));
//! assert!(oauth.is_valid(access_token));
//! assert_eq!(oauth.exchanges(), 1);
//! # }
//! ```

mod endpoints;
pub(crate) mod form;

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use ring::rand::SecureRandom as _;
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::anthropic::wire::s;
use crate::openai::RecordedRequest;

/// The `grant_type` of a JWT-bearer grant (RFC 7523).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The scope Vertex AI clients ask for.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The metadata server's path of the default service account's access token.
pub const METADATA_TOKEN_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/token";
/// The metadata server's path of the project id.
pub const METADATA_PROJECT_PATH: &str = "/computeMetadata/v1/project/project-id";

const PROJECT_ID: &str = "duo-fake-project";
const CLIENT_EMAIL: &str = "duo-test@duo-fake-project.iam.gserviceaccount.com";
const CLIENT_ID: &str = "109876543210987654321";
const PRIVATE_KEY_ID: &str = "6c1a0f7e2b9d4c3a8e5f0b1d2c3e4f5a6b7c8d9e";

/// Locks `m`, ignoring poisoning (a panicking test must not hide the fake's state).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The access tokens a [`FakeGoogleOAuth`] issued, shared with the fakes that trust it.
#[derive(Debug, Default)]
pub(crate) struct TokenTable {
    issued: Mutex<Vec<(String, Instant)>>,
    minted: AtomicU64,
}

impl TokenTable {
    /// A new `ya29.fake-<n>-<random>` token valid for `lifetime`.
    fn issue(&self, lifetime: Duration) -> String {
        let n = self.minted.fetch_add(1, Ordering::SeqCst) + 1;
        let mut random = [0_u8; 12];
        // The counter alone keeps tokens unique should the system RNG ever fail.
        let _ = ring::rand::SystemRandom::new().fill(&mut random);
        let token = format!("ya29.fake-{n}-{}", URL_SAFE_NO_PAD.encode(random));
        lock(&self.issued).push((token.clone(), Instant::now() + lifetime));
        token
    }

    /// Whether `token` was issued here and has not expired.
    pub(crate) fn is_valid(&self, token: &str) -> bool {
        let now = Instant::now();
        lock(&self.issued)
            .iter()
            .any(|(t, expires)| t == token && *expires > now)
    }

    fn all(&self) -> Vec<String> {
        lock(&self.issued).iter().map(|(t, _)| t.clone()).collect()
    }
}

/// Everything the fake shares between its handler and the test.
pub(crate) struct Shared {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The service account's public key, which assertions must verify against.
    pub public_key: DecodingKey,
    pub expires_in: AtomicU64,
    /// Scripted failures `(status, body)` for the next token requests.
    pub failures: Mutex<VecDeque<(u16, Value)>>,
    pub exchanges: AtomicUsize,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub tokens: Arc<TokenTable>,
    pub last_claims: Mutex<Option<Value>>,
}

impl Shared {
    pub(crate) fn token_uri(&self) -> String {
        format!("{}/token", self.base)
    }
}

/// A fake Google OAuth token endpoint and GCE metadata server on `127.0.0.1:<random>`, serving
/// until dropped.
pub struct FakeGoogleOAuth {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FakeGoogleOAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGoogleOAuth")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// The service account's public key, derived from [`crate::keys::SIGNING_KEY`].
#[allow(clippy::expect_used)] // a fixed test key: a failure here is a broken test kit
fn public_key() -> DecodingKey {
    let block = pem::parse(crate::keys::SIGNING_KEY).expect("the test key's PEM parses");
    let pair = ring::rsa::KeyPair::from_pkcs8(block.contents()).expect("a PKCS#8 RSA key");
    let components: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
    DecodingKey::from_rsa_raw_components(&components.n, &components.e)
}

impl FakeGoogleOAuth {
    /// Starts the fake on `127.0.0.1` on a free port.
    ///
    /// # Panics
    /// If no loopback port can be bound (a broken test machine).
    #[allow(clippy::expect_used)] // a test kit that cannot bind loopback cannot run any test
    pub async fn start() -> Self {
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fake Google OAuth server");
        let addr = tcp
            .local_addr()
            .expect("read the fake OAuth server's address");
        let shared = Arc::new(Shared {
            base: format!("http://{addr}"),
            public_key: public_key(),
            expires_in: AtomicU64::new(3599),
            failures: Mutex::new(VecDeque::new()),
            exchanges: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            tokens: Arc::new(TokenTable::default()),
            last_claims: Mutex::new(None),
        });
        let app = Router::new()
            .fallback(endpoints::handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(tcp, app.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        Self { addr, shared, task }
    }

    /// The base URL, `http://127.0.0.1:PORT` (no trailing `/`).
    #[must_use]
    pub fn url(&self) -> String {
        self.shared.base.clone()
    }

    /// The socket address the fake listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token endpoint, `http://127.0.0.1:PORT/token`: the key file's `token_uri`, and the
    /// `aud` an assertion must carry.
    #[must_use]
    pub fn token_uri(&self) -> String {
        self.shared.token_uri()
    }

    /// `127.0.0.1:PORT`, for a `GCE_METADATA_HOST`-style override of `metadata.google.internal`.
    #[must_use]
    pub fn metadata_host(&self) -> String {
        self.addr.to_string()
    }

    /// The project id of the key file and the metadata server (`duo-fake-project`).
    #[must_use]
    pub fn project_id(&self) -> &'static str {
        PROJECT_ID
    }

    /// The service account's e-mail: the key file's `client_email`, the assertion's `iss`.
    #[must_use]
    pub fn client_email(&self) -> &'static str {
        CLIENT_EMAIL
    }

    /// The key file's `private_key_id`: the `kid` an assertion's header may carry.
    #[must_use]
    pub fn private_key_id(&self) -> &'static str {
        PRIVATE_KEY_ID
    }

    /// A complete service-account key file, as `gcloud iam service-accounts keys create`
    /// writes it, whose `token_uri` is this fake's.
    #[must_use]
    pub fn service_account_json(&self) -> String {
        let cert_url = format!(
            "https://www.googleapis.com/robot/v1/metadata/x509/{}",
            CLIENT_EMAIL.replace('@', "%40")
        );
        let fields = [
            ("type", s("service_account")),
            ("project_id", s(PROJECT_ID)),
            ("private_key_id", s(PRIVATE_KEY_ID)),
            ("private_key", s(crate::keys::SIGNING_KEY)),
            ("client_email", s(CLIENT_EMAIL)),
            ("client_id", s(CLIENT_ID)),
            ("auth_uri", s("https://accounts.google.com/o/oauth2/auth")),
            ("token_uri", s(&self.token_uri())),
            (
                "auth_provider_x509_cert_url",
                s("https://www.googleapis.com/oauth2/v1/certs"),
            ),
            ("client_x509_cert_url", s(&cert_url)),
            ("universe_domain", s("googleapis.com")),
        ];
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("  {}: {v}", s(k)))
            .collect();
        format!("{{\n{}\n}}\n", body.join(",\n"))
    }

    /// Writes [`service_account_json`](Self::service_account_json) to
    /// `dir/service-account.json` and returns that path (for `GOOGLE_APPLICATION_CREDENTIALS`).
    ///
    /// # Errors
    /// If the file cannot be written.
    pub fn write_service_account(&self, dir: &Path) -> io::Result<PathBuf> {
        let path = dir.join("service-account.json");
        std::fs::write(&path, self.service_account_json())?;
        Ok(path)
    }

    /// The `expires_in` of tokens issued from now on (initially 3599; 0 issues tokens that are
    /// already expired).
    pub fn set_expires_in(&self, secs: u64) -> &Self {
        self.shared.expires_in.store(secs, Ordering::SeqCst);
        self
    }

    /// The next token request (token endpoint or metadata server; the metadata server's
    /// `Metadata-Flavor` check comes first) is answered `status` with `body` as JSON instead;
    /// several calls queue several failures.
    pub fn fail_next(&self, status: u16, body: Value) -> &Self {
        lock(&self.shared.failures).push_back((status, body));
        self
    }

    /// How many tokens were issued so far (JWT-bearer grants and metadata tokens).
    #[must_use]
    pub fn exchanges(&self) -> usize {
        self.shared.exchanges.load(Ordering::SeqCst)
    }

    /// Every request received so far (refused ones too), in arrival order: method, path, query,
    /// headers and the body as text (`raw_body`; `body` is `Null` for a form).
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The latest request, if any.
    #[must_use]
    pub fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.shared.requests).last().cloned()
    }

    /// Every access token issued so far, in order.
    #[must_use]
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared.tokens.all()
    }

    /// Whether `token` was issued by this fake and is not past its expiry.
    #[must_use]
    pub fn is_valid(&self, token: &str) -> bool {
        self.shared.tokens.is_valid(token)
    }

    /// The decoded claims of the last assertion the token endpoint accepted.
    #[must_use]
    pub fn last_assertion_claims(&self) -> Option<Value> {
        lock(&self.shared.last_claims).clone()
    }

    /// The token table, for [`crate::vertex::FakeVertex::trust`].
    pub(crate) fn tokens(&self) -> Arc<TokenTable> {
        Arc::clone(&self.shared.tokens)
    }
}

impl Drop for FakeGoogleOAuth {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
