//! A fake OIDC issuer (a GitLab instance as the gateway sees it): discovery document, JWKS, and
//! RSA test keys that mint tokens the gateway must accept or refuse.
//!
//! ```no_run
//! # async fn demo() {
//! let oidc = duo_testkit::oidc::FakeOidc::start().await;
//! let token = oidc.token(&["complete_code"]);                  // valid for one hour
//! let expired = oidc.claims().exp_in(-600).sign();             // vary any claim
//! let headers = duo_testkit::oidc::gitlab_headers(&token);     // what GitLab sends with it
//! oidc.rotate();                                               // new current key and kid
//! assert_eq!(oidc.jwks_fetches(), 0);                          // nothing fetched yet
//! oidc.set_jwks_mode(duo_testkit::oidc::Mode::Hang);           // the JWKS endpoint hangs
//! let crit = oidc.sign_with_header(&serde_json::json!({"crit": ["x"]}), &oidc.claims().into_value());
//! # let _ = (expired, headers, crit);
//! # }
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The audience GitLab puts in tokens for the AI gateway.
pub const AUDIENCE: &str = "gitlab-ai-gateway";
/// `gitlab_instance_id` (and `sub`) of the default claims.
pub const INSTANCE_ID: &str = "5b3a9c4e-7d21-4f0e-9a6b-2c8d1e0f4a77";
/// `gitlab_realm` of the default claims.
pub const REALM: &str = "self-managed";
/// `gitlab_instance_uid` of the default claims.
pub const INSTANCE_UID: &str = "00000000-1111-2222-3333-444455556666";
/// Path the discovery document points `jwks_uri` at (GitLab's own path).
pub const JWKS_PATH: &str = "/oauth/discovery/keys";

/// A fixed RSA test key (2048 bits, generated once with `openssl genrsa`; test use only).
struct KeyMaterial {
    kid: &'static str,
    pem: &'static str,
}

const KEY_1: KeyMaterial = KeyMaterial {
    kid: "fake-oidc-key-1",
    pem: include_str!("../fixtures/oidc_key_1.pem"),
};
const KEY_2: KeyMaterial = KeyMaterial {
    kid: "fake-oidc-key-2",
    pem: include_str!("../fixtures/oidc_key_2.pem"),
};
const STRANGER: KeyMaterial = KeyMaterial {
    kid: "stranger-key",
    pem: include_str!("../fixtures/stranger_key.pem"),
};

/// A parsed test key: signer and its public JWK.
struct TestKey {
    kid: &'static str,
    encoding: EncodingKey,
    jwk: Value,
}

impl TestKey {
    #[allow(clippy::expect_used)] // fixed fixtures: a failure here is a broken test kit
    fn load(m: &KeyMaterial) -> Self {
        let block = pem::parse(m.pem).expect("fixture PEM parses");
        let pair =
            ring::rsa::KeyPair::from_pkcs8(block.contents()).expect("fixture is a PKCS#8 RSA key");
        let public = pair.public();
        let components: ring::rsa::PublicKeyComponents<Vec<u8>> = public.into();
        let jwk = json!({
            "kty": "RSA",
            "kid": m.kid,
            "use": "sig",
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(&components.n),
            "e": URL_SAFE_NO_PAD.encode(&components.e),
        });
        let encoding = EncodingKey::from_rsa_pem(m.pem.as_bytes()).expect("fixture signs");
        Self {
            kid: m.kid,
            encoding,
            jwk,
        }
    }
}

/// What the server publishes and signs with.
struct Keys {
    /// Index into `all` of the key that signs new tokens.
    current: usize,
    /// Indexes into `all` of the keys served in the JWKS.
    published: Vec<usize>,
}

struct Shared {
    issuer: String,
    all: [TestKey; 2],
    stranger: TestKey,
    keys: Mutex<Keys>,
    up: AtomicBool,
    jwks_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
    jwks_mode: Mutex<Mode>,
    discovery_mode: Mutex<Mode>,
    oversized_bytes_sent: AtomicUsize,
    jti: AtomicU64,
}

impl Shared {
    fn keys(&self) -> MutexGuard<'_, Keys> {
        self.lock(&self.keys)
    }

    fn lock<'a, T>(&self, mutex: &'a Mutex<T>) -> MutexGuard<'a, T> {
        mutex
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// An OIDC issuer on `127.0.0.1:<random>`: `/.well-known/openid-configuration` and the JWKS at
/// [`JWKS_PATH`], counting fetches; stopped when dropped.
pub struct FakeOidc {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeOidc {
    /// Starts the server with the first test key published and current.
    pub async fn start() -> Self {
        Self::start_on(None).await
    }

    /// [`start`](Self::start), serving HTTPS with `ca`'s server certificate: the issuer URL
    /// says `https`, and a client trusts it only with the CA's PEM.
    pub async fn start_tls(ca: &crate::tls::TestCa) -> Self {
        Self::start_on(Some(ca)).await
    }

    #[allow(clippy::expect_used)] // a test kit that cannot bind loopback cannot run any test
    async fn start_on(tls: Option<&crate::tls::TestCa>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for FakeOidc");
        let addr = listener.local_addr().expect("local address of FakeOidc");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let shared = Arc::new(Shared {
            issuer: format!("{scheme}://{addr}"),
            all: [TestKey::load(&KEY_1), TestKey::load(&KEY_2)],
            stranger: TestKey::load(&STRANGER),
            keys: Mutex::new(Keys {
                current: 0,
                published: vec![0],
            }),
            up: AtomicBool::new(true),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
            jwks_mode: Mutex::new(Mode::Normal),
            discovery_mode: Mutex::new(Mode::Normal),
            oversized_bytes_sent: AtomicUsize::new(0),
            jti: AtomicU64::new(0),
        });
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(endpoints::discovery),
            )
            .route(JWKS_PATH, get(endpoints::jwks))
            .with_state(Arc::clone(&shared));
        let task = match tls {
            Some(ca) => {
                let listener = ca.listener(listener);
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app).await;
                })
            }
            None => tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            }),
        };
        Self { shared, task }
    }

    /// The issuer URL (`http://127.0.0.1:<port>`, `https` when started with TLS): what
    /// `AIGW_GITLAB_URL` is set to.
    pub fn url(&self) -> String {
        self.shared.issuer.clone()
    }

    /// The JWKS URL the discovery document names.
    pub fn jwks_uri(&self) -> String {
        format!("{}{JWKS_PATH}", self.url())
    }

    /// The `kid` of the key that signs new tokens.
    pub fn current_kid(&self) -> &'static str {
        let current = self.shared.keys().current;
        self.shared.all[current].kid
    }

    /// Switches signing to the other test key (new `kid`) and publishes both keys, as an issuer
    /// does during a rotation.
    pub fn rotate(&self) {
        let mut keys = self.shared.keys();
        keys.current = (keys.current + 1) % self.shared.all.len();
        let current = keys.current;
        if !keys.published.contains(&current) {
            keys.published.push(current);
        }
    }

    /// Stops publishing every key but the current one (the end of a rotation).
    pub fn retire_old_keys(&self) {
        let mut keys = self.shared.keys();
        keys.published = vec![keys.current];
    }

    /// While `false`, both endpoints answer 503 (the issuer is down).
    pub fn set_available(&self, up: bool) {
        self.shared.up.store(up, Ordering::SeqCst);
    }

    /// How the JWKS endpoint answers from now on (see [`Mode`]).
    pub fn set_jwks_mode(&self, mode: Mode) {
        *self.shared.lock(&self.shared.jwks_mode) = mode;
    }

    /// How the discovery endpoint answers from now on (see [`Mode`]).
    pub fn set_discovery_mode(&self, mode: Mode) {
        *self.shared.lock(&self.shared.discovery_mode) = mode;
    }

    /// How many JWKS requests arrived while the issuer was available (hung and oversized
    /// answers included).
    pub fn jwks_fetches(&self) -> usize {
        self.shared.jwks_fetches.load(Ordering::SeqCst)
    }

    /// How many discovery requests arrived while the issuer was available.
    pub fn discovery_fetches(&self) -> usize {
        self.shared.discovery_fetches.load(Ordering::SeqCst)
    }

    /// Bytes of [`Mode::Oversized`] bodies the server handed to the socket: how much the client
    /// let through (plus socket buffers) before it hung up.
    pub fn oversized_bytes_sent(&self) -> usize {
        self.shared.oversized_bytes_sent.load(Ordering::SeqCst)
    }

    /// Signs `claims` (RS256) with the current key, its `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        let current = self.shared.keys().current;
        let key = &self.shared.all[current];
        sign_with(&key.encoding, Some(key.kid), claims)
    }

    /// Signs `claims` with the current key under a protected header of `alg` RS256, `typ` JWT,
    /// the current `kid`, and the members of `extra` (e.g. `{"crit": ["exp"], "exp": 1}`), which
    /// `jsonwebtoken`'s own `Header` cannot carry.
    #[allow(clippy::expect_used)] // signing fixed test keys cannot fail
    pub fn sign_with_header(&self, extra: &Value, claims: &Value) -> String {
        let current = self.shared.keys().current;
        let key = &self.shared.all[current];
        let mut header = json!({"alg": "RS256", "typ": "JWT", "kid": key.kid});
        if let (Some(header), Some(extra)) = (header.as_object_mut(), extra.as_object()) {
            header.extend(extra.clone());
        }
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &key.encoding, Algorithm::RS256)
                .expect("sign test token");
        format!("{message}.{signature}")
    }

    /// Signs `claims` with a key the issuer never published, under the given `kid` (e.g. the
    /// current kid, to forge a signature, or an unknown one).
    pub fn sign_with_stranger_key(&self, kid: Option<&str>, claims: &Value) -> String {
        sign_with(&self.shared.stranger.encoding, kid, claims)
    }

    /// A valid token for `scopes`: the default claims of [`FakeOidc::claims`].
    pub fn token(&self, scopes: &[&str]) -> String {
        self.claims().scopes(scopes).sign()
    }

    /// A builder of claims pre-filled as a self-managed GitLab instance sends them: `iss` this
    /// issuer, `sub` and `gitlab_instance_id` [`INSTANCE_ID`], `aud` [`AUDIENCE`], `gitlab_realm`
    /// [`REALM`], `gitlab_instance_uid` [`INSTANCE_UID`], `iat`/`nbf` now, `exp` in one hour,
    /// a unique `jti`, no scopes.
    pub fn claims(&self) -> Claims<'_> {
        let now = now();
        let jti = self.shared.jti.fetch_add(1, Ordering::SeqCst);
        Claims {
            oidc: self,
            value: json!({
                "iss": self.url(),
                "sub": INSTANCE_ID,
                "aud": AUDIENCE,
                "iat": now,
                "nbf": now,
                "exp": now + 3600,
                "jti": format!("fake-oidc-{jti}"),
                "gitlab_realm": REALM,
                "gitlab_instance_id": INSTANCE_ID,
                "gitlab_instance_uid": INSTANCE_UID,
                "scopes": [],
            }),
        }
    }
}

impl Drop for FakeOidc {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The headers a GitLab instance sends with `token`: `Authorization: Bearer`,
/// `X-Gitlab-Authentication-Type: oidc`, `X-Gitlab-Instance-Id` [`INSTANCE_ID`],
/// `X-Gitlab-Realm` [`REALM`].
pub fn gitlab_headers(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
        headers.insert(http::header::AUTHORIZATION, v);
    }
    headers.insert(
        "x-gitlab-authentication-type",
        HeaderValue::from_static("oidc"),
    );
    headers.insert(
        "x-gitlab-instance-id",
        HeaderValue::from_static(INSTANCE_ID),
    );
    headers.insert("x-gitlab-realm", HeaderValue::from_static(REALM));
    headers
}

#[allow(clippy::expect_used)] // signing fixed test keys cannot fail on valid JSON claims
fn sign_with(key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("sign test token")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

mod claims;
mod endpoints;
#[cfg(test)]
mod tests;

pub use claims::Claims;
pub use endpoints::Mode;
