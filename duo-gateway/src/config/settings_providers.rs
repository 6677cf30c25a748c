//! The providers' rows of the settings table ([`GROUPS`](super::settings::GROUPS)): the
//! upstream clients, and Vertex AI with GitLab's names for its settings.

use super::settings::{Setting, s};

/// `[providers]`: limits, retries and each platform's settings.
pub(crate) const PROVIDERS: &[Setting] = &[
            s("providers.max_clients", "256", "cached model clients (LRU)"),
            s(
                "providers.resilience.connect_timeout",
                "5s",
                "to connect to a model server",
            ),
            s(
                "providers.resilience.first_byte_timeout",
                "30s",
                "from a streamed attempt to its first event",
            ),
            s(
                "providers.resilience.idle_timeout",
                "30s",
                "between stream chunks",
            ),
            s(
                "providers.resilience.total_timeout",
                "120s",
                "(a prompt's own timeout wins)",
            ),
            s(
                "providers.resilience.max_retries",
                "2",
                "only before the first chunk",
            ),
            s(
                "providers.resilience.base_backoff",
                "200ms",
                "first retry delay, doubled per retry, with jitter",
            ),
            s(
                "providers.resilience.max_backoff",
                "5s",
                "largest retry delay",
            ),
            s(
                "providers.resilience.max_retry_after",
                "10s",
                "longer Retry-After: no retry",
            ),
            s(
                "providers.http.pool_idle_timeout",
                "90s",
                "idle pooled connections are closed after",
            ),
            s(
                "providers.http.pool_max_idle_per_host",
                "64",
                "idle pooled connections kept per host",
            ),
            s(
                "providers.http.tcp_keepalive",
                "60s",
                "TCP keep-alive of upstream connections",
            ),
            s(
                "providers.http.user_agent",
                "duo-gateway/<version>",
                "User-Agent of upstream requests",
            ),
            s(
                "providers.http.ca_bundle",
                "unset",
                "extra root CAs (PEM), models and GitLab",
            ),
            s(
                "providers.http.proxy.https",
                "unset: HTTPS_PROXY",
                "forward proxy of https:// upstreams (CONNECT)",
            )
            .more("the forward proxy for `https://` upstreams and OIDC issuers, through a `CONNECT` tunnel (TLS stays end to end); `http://user:password@host:port` sends basic credentials. When none of `http`, `https`, `no_proxy` is set: `HTTPS_PROXY`, `https_proxy`, `ALL_PROXY`, `all_proxy` from the environment"),
            s(
                "providers.http.proxy.http",
                "unset: HTTP_PROXY",
                "forward proxy of http:// upstreams",
            )
            .more("the forward proxy for `http://` upstreams; when none of `http`, `https`, `no_proxy` is set: `HTTP_PROXY`, `http_proxy`, `ALL_PROXY`, `all_proxy` from the environment"),
            s(
                "providers.http.proxy.no_proxy",
                "unset: NO_PROXY",
                "upstreams reached directly (hosts, IPs, CIDRs, *)",
            )
            .more("comma-separated destinations reached without the proxy: host names (each matches its subdomains too), IP addresses, CIDR ranges, or `*` for all (which turns the environment's proxies off)"),
            s(
                "providers.http.proxy.forward_unresolved",
                "false",
                "proxy names that do not resolve here",
            )
            .more("a proxied destination is checked by the egress policy at the addresses it resolves to here; one that does not resolve here (split DNS) is refused unless this is true, when only its name is checked and the proxy's own rules must keep metadata addresses out"),
            s(
                "providers.http.client_certificate.cert_file",
                "unset",
                "client certificate (PEM) for mutual TLS",
            )
            .more("PEM: the client certificate chain presented to TLS servers that ask for one (model servers, the instance), and its key unless `key_file` is set; GitLab's `mtls.*` names set the same"),
            s(
                "providers.http.client_certificate.key_file",
                "unset: in cert_file",
                "its private key (PEM; PKCS#8, RSA, EC)",
            ),
            s(
                "providers.http.client_certificate.key_password",
                "unset",
                "password of an encrypted PKCS#8 key",
            ),
            s(
                "providers.http.verify_server_certificates",
                "true",
                "false accepts any server certificate: never in production",
            ),
            s("mtls.enabled", "false", "GitLab's names for the client certificate"),
            s("mtls.cert_file", "unset", "certificate (and key) PEM; required when enabled"),
            s("mtls.key_file", "unset: in cert_file", "private key PEM"),
            s("mtls.key_password", "unset", "password of an encrypted PKCS#8 key"),
            s(
                "mtls.ca_bundle",
                "unset",
                "CA bundle of the model servers (replaces providers.http.ca_bundle)",
            ),
            s(
                "mtls.verify",
                "true",
                "false: server certificates unverified (only with mTLS on)",
            ),
            s(
                "providers.http.max_response_bytes",
                "16777216",
                "largest non-streamed answer",
            ),
            s(
                "providers.http.max_event_bytes",
                "1048576",
                "largest SSE event of a stream",
            ),
            s(
                "providers.openai.placeholder_key",
                "dummy_key",
                "sent when a model has no key",
            ),
            s(
                "providers.openai.base_url",
                "https://api.openai.com/v1",
                "where openai/ models without their own endpoint go",
            ),
            s(
                "providers.openai.api_key",
                "unset: OPENAI_API_KEY",
                "the operator's key for those requests only",
            )
            .more("the operator's OpenAI key, sent only to `providers.openai.base_url` (never to an endpoint a request names); unset: the `OPENAI_API_KEY` environment variable"),
            s(
                "providers.azure.api_version",
                "2024-10-21",
                "api-version of Azure OpenAI calls",
            ),
            s("providers.azure.auth", "api_key", "or bearer"),
            s(
                "providers.bedrock.region",
                "AWS default chain",
                "AWS region of Bedrock calls",
            ),
            s(
                "providers.bedrock.access_key_id",
                "AWS default chain",
                "static AWS key id (with secret_access_key)",
            ),
            s(
                "providers.bedrock.secret_access_key",
                "AWS default chain",
                "static AWS secret key",
            ),
            s(
                "providers.bedrock.session_token",
                "unset",
                "session token of temporary static keys",
            ),
            s(
                "providers.bedrock.profile",
                "unset",
                "a ~/.aws/config profile",
            ),
            s(
                "providers.bedrock.endpoint_url",
                "unset",
                "private endpoint",
            ),
            s(
                "providers.bedrock.api_key",
                "unset: AWS_BEARER_TOKEN_BEDROCK",
                "Bedrock API key, sent as a bearer token (no SigV4)",
            )
            .more("a Bedrock API key: requests carry `Authorization: Bearer <key>` and are not SigV4-signed; unset or blank: the `AWS_BEARER_TOKEN_BEDROCK` environment variable, if not blank; not with static keys or `role_arn`"),
            s(
                "providers.bedrock.role_arn",
                "unset",
                "IAM role to assume through STS",
            )
            .more("an IAM role (`arn:aws:iam::<account>:role/<name>`) assumed with the other credentials (static keys, profile, default chain); Bedrock calls are signed with its temporary credentials"),
            s(
                "providers.bedrock.external_id",
                "unset",
                "external id of role_arn's trust policy",
            ),
            s(
                "providers.bedrock.role_session_name",
                "duo-gateway",
                "session name of the assumed role",
            ),
            s(
                "providers.bedrock.sts_endpoint_url",
                "unset",
                "STS endpoint for role_arn",
            )
            .more("an STS endpoint override for assuming `role_arn` (a VPC endpoint); unset: `AWS_ENDPOINT_URL_STS` or the region's STS endpoint"),
            s(
                "providers.bedrock.guardrail.identifier",
                "unset",
                "guardrail id or ARN, for every call",
            )
            .more("a Bedrock guardrail (its id or ARN) sent as `guardrailConfig` with every Converse and ConverseStream call; needs `guardrail.version`"),
            s(
                "providers.bedrock.guardrail.version",
                "unset",
                "guardrail version: a number or DRAFT",
            ),
            s(
                "providers.bedrock.guardrail.trace",
                "disabled",
                "or enabled: answers carry the guardrail's trace",
            ),
            s(
                "providers.anthropic.base_url",
                "https://api.anthropic.com",
                "where anthropic/ models without their own endpoint go",
            ),
            s(
                "providers.anthropic.api_key",
                "unset: ANTHROPIC_API_KEY",
                "the operator's key for those requests only",
            )
            .more("the operator's key, sent only to `providers.anthropic.base_url` (never to an endpoint a request names); unset: the `ANTHROPIC_API_KEY` environment variable"),
            s(
                "providers.anthropic.version",
                "2023-06-01",
                "the anthropic-version header",
            ),
            s(
                "providers.anthropic.default_max_tokens",
                "4096",
                "max_tokens when a prompt sets none",
            ),
        ];

/// Vertex AI, under duo's keys and GitLab's.
pub(crate) const VERTEX: &[Setting] = &[
    s(
        "providers.vertex.project",
        "unset: VERTEXAI_PROJECT",
        "Google Cloud project of vertex_ai/ models",
    ),
    s(
        "google_cloud_platform.project",
        "unset",
        "GitLab's name for the project",
    ),
    s(
        "providers.vertex.location",
        "us-central1",
        "region, or global",
    )
    .more("the region of every Vertex AI call (`us-central1`, `europe-west4`, …, or `global`); unset: `vertex_text_model.location`, `google_cloud_platform.location`, `VERTEXAI_LOCATION`, then `us-central1`"),
    s(
        "vertex_text_model.location",
        "unset",
        "GitLab's name for the location",
    ),
    s(
        "google_cloud_platform.location",
        "unset",
        "GitLab's other name for it",
    ),
    s(
        "providers.vertex.endpoint",
        "https://{location}-aiplatform.googleapis.com",
        "API host or base URL (private endpoint)",
    ),
    s(
        "vertex_text_model.endpoint",
        "unset",
        "GitLab's name for the endpoint",
    ),
    s(
        "providers.vertex.credentials_file",
        "unset: GOOGLE_APPLICATION_CREDENTIALS",
        "service-account key file; none: the metadata server",
    )
    .more("a service-account key (JSON), exchanged for access tokens with the JWT-bearer grant at its `token_uri`; with neither a file nor a key, tokens come from the metadata server's default service account"),
    s(
        "providers.vertex.credentials_json",
        "unset",
        "the key itself, as JSON text (never printed)",
    ),
    s(
        "google_cloud_platform.service_account_json_key",
        "unset",
        "GitLab's name for it",
    ),
    s(
        "providers.vertex.token_uri",
        "the key's token_uri",
        "where the signed assertion is exchanged",
    ),
    s(
        "providers.vertex.metadata_host",
        "unset: GCE_METADATA_HOST, metadata.google.internal",
        "metadata server, host[:port]",
    )
    .more("the metadata server (`host[:port]`), asked only for access tokens, by a client that alone may reach link-local addresses"),
    s(
        "providers.vertex.anthropic_version",
        "vertex-2023-10-16",
        "anthropic_version of Claude calls",
    ),
    s(
        "providers.vertex.default_max_tokens",
        "4096",
        "Claude's max_tokens when a prompt sets none",
    ),
];
