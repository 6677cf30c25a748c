//! [`RecordedRequest`]: what the fake received, and [`Route`], the publisher-model route it
//! named.

use std::net::SocketAddr;
use std::time::Instant;

use serde_json::Value;

use crate::google_oauth::form::percent_decode;

/// A publisher-model route,
/// `/{version}/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`,
/// its segments percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `v1` or `v1beta1`.
    pub version: String,
    /// The project id.
    pub project: String,
    /// The location, e.g. `us-central1` or `global`.
    pub location: String,
    /// `google` (Gemini) or `anthropic` (Claude).
    pub publisher: String,
    /// The model id, e.g. `gemini-2.5-flash` or `claude-sonnet-4@20250514`.
    pub model: String,
    /// The custom method after the last `:`, e.g. `streamGenerateContent` or `rawPredict`.
    pub method: String,
}

impl Route {
    /// Parses a request path (without query); `None` when it is not a publisher-model route.
    #[must_use]
    pub fn parse(path: &str) -> Option<Self> {
        let segments: Vec<String> = path
            .strip_prefix('/')?
            .split('/')
            .map(|segment| percent_decode(segment, false))
            .collect();
        let [
            version,
            projects,
            project,
            locations,
            location,
            publishers,
            publisher,
            models,
            last,
        ] = segments.as_slice()
        else {
            return None;
        };
        let literals = [
            (projects, "projects"),
            (locations, "locations"),
            (publishers, "publishers"),
            (models, "models"),
        ];
        if literals.iter().any(|(segment, literal)| segment != literal) {
            return None;
        }
        let (model, method) = last.rsplit_once(':')?;
        let parts = [version, project, location, publisher];
        if model.is_empty() || method.is_empty() || parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        Some(Self {
            version: version.clone(),
            project: project.clone(),
            location: location.clone(),
            publisher: publisher.clone(),
            model: model.to_owned(),
            method: method.to_owned(),
        })
    }

    /// Whether Vertex serves this route: `v1`/`v1beta1`, and `google` with `generateContent` or
    /// `streamGenerateContent`, or `anthropic` with `rawPredict` or `streamRawPredict`.
    #[must_use]
    pub fn is_served(&self) -> bool {
        matches!(self.version.as_str(), "v1" | "v1beta1")
            && matches!(
                (self.publisher.as_str(), self.method.as_str()),
                ("google", "generateContent" | "streamGenerateContent")
                    | ("anthropic", "rawPredict" | "streamRawPredict")
            )
    }
}

/// One request as the fake received it (refused ones too).
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Value,
    raw_body: String,
    peer: SocketAddr,
    received_at: Instant,
    route: Option<Route>,
}

impl RecordedRequest {
    pub(crate) fn new(
        parts: &http::request::Parts,
        bytes: &[u8],
        peer: SocketAddr,
        received_at: Instant,
    ) -> Self {
        let path = parts.uri.path().to_owned();
        Self {
            method: parts.method.as_str().to_owned(),
            route: Route::parse(&path),
            path,
            query: parts.uri.query().map(str::to_owned),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                    (n.as_str().to_owned(), value)
                })
                .collect(),
            body: serde_json::from_slice(bytes).unwrap_or(Value::Null),
            raw_body: String::from_utf8_lossy(bytes).into_owned(),
            peer,
            received_at,
        }
    }

    /// The HTTP method, `POST`, `GET`, …
    #[must_use]
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path as sent (not decoded), `:method` included, e.g.
    /// `/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent`.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw query string without `?`, if any (e.g. `alt=sse`).
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The value of query parameter `name` (not percent-decoded).
    #[must_use]
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
    }

    /// Headers in arrival order, names in lower case.
    #[must_use]
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The first header named `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The token of `Authorization: Bearer <token>`, if the request has one.
    #[must_use]
    pub fn bearer(&self) -> Option<&str> {
        let (scheme, token) = self.header("authorization")?.trim().split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
    }

    /// The body parsed as JSON (`Value::Null` when empty or not JSON).
    #[must_use]
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// The body as text (lossy UTF-8).
    #[must_use]
    pub fn raw_body(&self) -> &str {
        &self.raw_body
    }

    /// The client's address: distinct values mean distinct connections.
    #[must_use]
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// When the request arrived.
    #[must_use]
    pub fn received_at(&self) -> Instant {
        self.received_at
    }

    /// The publisher-model route of the path, if it is one (served or not).
    #[must_use]
    pub fn route(&self) -> Option<&Route> {
        self.route.as_ref()
    }

    /// The model id of the route, if the path is a route.
    #[must_use]
    pub fn model(&self) -> Option<&str> {
        self.route.as_ref().map(|r| r.model.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_with_model_ids_of_any_shape() {
        let route = Route::parse(
            "/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4%4020250514:streamRawPredict",
        )
        .unwrap();
        assert_eq!(route.model, "claude-sonnet-4@20250514");
        assert_eq!(route.method, "streamRawPredict");
        assert_eq!(route.location, "us-east5");
        assert!(route.is_served());

        let gemini = Route::parse(
            "/v1beta1/projects/p/locations/global/publishers/google/models/gemini-2.0-flash-001:generateContent",
        )
        .unwrap();
        assert_eq!(
            (gemini.model.as_str(), gemini.publisher.as_str()),
            ("gemini-2.0-flash-001", "google")
        );
        let encoded_colon = Route::parse(
            "/v1/projects/p/locations/l/publishers/google/models/m.1%3AgenerateContent",
        );
        assert_eq!(encoded_colon.unwrap().method, "generateContent");

        for bad in [
            "/v1/projects/p/locations/l/publishers/google/models/gemini",
            "/v1/projects/p/locations/l/publishers/google/models/:generateContent",
            "/v1/projects/p/locations/l/publishers/google/gemini:generateContent",
            "/v1/projects/p/locations/l/publishers/google/models/a/b:generateContent",
            "v1/projects/p/locations/l/publishers/google/models/m:generateContent",
        ] {
            assert_eq!(Route::parse(bad), None, "{bad}");
        }
        let unserved =
            Route::parse("/v1/projects/p/locations/l/publishers/google/models/m:rawPredict");
        assert!(!unserved.unwrap().is_served());
    }
}
