//! The settings table: every key of [`Config`](super::Config) with its default and a line of
//! help, in groups. `--help` ([`settings_help`](super::settings_help)), the settings section of
//! `duo-gateway/README.md` ([`settings_markdown`](super::settings_markdown)) and those of the
//! docs that own a section (AUTH.md, the logging and OpenAI-API docs) are rendered from it
//! (`settings_render`), and each key's environment variable is derived from the key
//! ([`env_name`](super::env_name)), so none of them can drift. `settings_tests` checks the table
//! against the config structs themselves (what serde accepts) and the docs against the rendering.

/// One settable key.
pub(crate) struct Setting {
    /// The dot-separated TOML key, e.g. `fastapi.api_port`.
    pub(crate) key: &'static str,
    /// The default, as shown.
    pub(crate) default: &'static str,
    /// What it does, in a few words (may be empty).
    pub(crate) help: &'static str,
    /// Settable in TOML only (a list of tables).
    pub(crate) toml_only: bool,
    /// The longer meaning the docs' tables show (empty: `help`).
    pub(crate) detail: &'static str,
}

impl Setting {
    /// The same setting with a longer meaning for the docs' tables.
    pub(super) const fn more(self, detail: &'static str) -> Self {
        Self { detail, ..self }
    }

    /// What the docs' tables say it does.
    pub(crate) fn meaning(&self) -> &'static str {
        if self.detail.is_empty() {
            self.help
        } else {
            self.detail
        }
    }
}

/// A titled group of settings.
pub(crate) struct Group {
    /// The heading.
    pub(crate) title: &'static str,
    /// Its settings, in order.
    pub(crate) settings: &'static [Setting],
}

pub(super) const fn s(key: &'static str, default: &'static str, help: &'static str) -> Setting {
    Setting {
        key,
        default,
        help,
        toml_only: false,
        detail: "",
    }
}

const fn toml(key: &'static str, default: &'static str, help: &'static str) -> Setting {
    Setting {
        key,
        default,
        help,
        toml_only: true,
        detail: "",
    }
}

/// Every setting, by group.
pub(crate) const GROUPS: &[Group] = &[
    Group {
        title: "Listener",
        settings: &[
            s("fastapi.api_host", "0.0.0.0", "address of the API listener"),
            s("fastapi.api_port", "5052", "port of the API listener"),
            s(
                "fastapi.metrics_host",
                "0.0.0.0",
                "address of the /metrics listener",
            ),
            s(
                "fastapi.metrics_port",
                "8082; 0 disables",
                "port of the /metrics listener",
            ),
            s(
                "fastapi.body_limit_bytes",
                "4194304",
                "largest request body, else 413",
            ),
            s(
                "fastapi.shutdown_grace_s",
                "30",
                "how long running streams may finish after SIGTERM",
            ),
            s(
                "fastapi.header_read_timeout_s",
                "10",
                "to send a request's headers",
            ),
            s(
                "fastapi.body_read_timeout_s",
                "30",
                "to send its body, else 408",
            ),
            s(
                "fastapi.keep_alive_timeout_s",
                "75",
                "idle between requests",
            ),
            s(
                "fastapi.max_connections",
                "half the open-file limit, at most 10000; 1..1000000",
                "above it new connections wait in the listen backlog",
            ),
            s(
                "fastapi.tls.enabled",
                "false",
                "serve the API over TLS (metrics stay plain HTTP)",
            )
            .more("serve the API listener over TLS 1.2/1.3 (rustls); the metrics listener stays plain HTTP; a missing, unreadable or mismatched pair fails start and `check-config`"),
            s(
                "fastapi.tls.cert_file",
                "unset",
                "certificate chain, PEM, server's first",
            ),
            s(
                "fastapi.tls.key_file",
                "unset",
                "private key, PEM (PKCS#8, PKCS#1 RSA or SEC1 EC)",
            ),
            s(
                "fastapi.tls.ssl_ciphers",
                "unset",
                "accepted and ignored (rustls' own safe suites)",
            )
            .more("GitLab's OpenSSL cipher string: accepted for compatibility and ignored with a warning; rustls offers its own safe suites of TLS 1.2 and 1.3"),
            s(
                "fastapi.tls.reload_interval_s",
                "10; 0 disables",
                "how often the two files are checked for a change",
            )
            .more("how often the two files are checked for a change (modification time, size); a changed pair that loads is served to new connections, a broken one is logged and the old pair kept"),
        ],
    },
    Group {
        title: "Authentication",
        settings: &[
            s(
                "gitlab_url",
                "unset",
                "GitLab instance whose OIDC keys sign tokens",
            )
            .more("OIDC issuer: the GitLab instance whose keys sign its tokens"),
            s(
                "customer_portal_url",
                "unset",
                "second OIDC issuer (CustomersDot)",
            )
            .more("optional second OIDC issuer (CustomersDot)"),
            s(
                "auth.bypass_external",
                "false",
                "accept any request (development only)",
            )
            .more("**development only**: every request is a debug caller with every scope"),
            s(
                "auth.bypass_external_with_header",
                "false",
                "honour `Bypass-Auth: true`",
            )
            .more("**development only**: requests with `Bypass-Auth: true` are debug callers"),
            s(
                "auth.bypass_jwt_signature",
                "false",
                "skip signature checks (development only)",
            )
            .more("**development only**: parse tokens without checking signatures (expiry and audience still checked)"),
            s(
                "auth.audience",
                "gitlab-ai-gateway",
                "the aud every token must carry",
            )
            .more("the `aud` every token must carry"),
            s(
                "auth.jwks_cache_ttl_s",
                "86400",
                "how long fetched OIDC keys are trusted",
            ),
            s(
                "auth.jwks_min_refresh_interval_s",
                "10",
                "between refetches for unknown kids",
            )
            .more("least time between refetches for unknown `kid`s, and between retries after a failure"),
            s(
                "auth.jwks_fetch_timeout_s",
                "10",
                "one issuer's discovery and key fetch",
            )
            .more("timeout of one key fetch (discovery and JWKS together)"),
            s("auth.leeway_s", "30", "clock skew allowed for exp/nbf")
            .more("allowed clock skew for `exp`/`nbf`"),
            s(
                "self_signed_jwt.signing_key",
                "unset: ephemeral key, this process only",
                "RSA private key (PEM)",
            )
            .more("RSA private key (PEM) for gateway-issued tokens"),
            s(
                "self_signed_jwt.validation_key",
                "unset",
                "previous key, during rotation",
            )
            .more("the previous signing key, still accepted during a rotation"),
        ],
    },
    Group {
        title: "Self-hosted models",
        settings: &[
            s(
                "custom_models.enabled",
                "false",
                "honour model endpoints sent by GitLab",
            ),
            s(
                "custom_models.allow_link_local_endpoints",
                "false",
                "egress to link-local/metadata",
            ),
            s(
                "custom_models.allowed_endpoints",
                "[]",
                "origins served with enabled=false",
            ),
            s(
                "custom_models.disable_streaming",
                "false",
                "ask models for whole answers only",
            )
            .more("ask models for whole answers only and stream each to the client as one piece, on every GitLab route (model servers or proxies that cannot stream)"),
            s(
                "custom_models.extra_headers",
                "{}",
                "headers for request-named model endpoints (JSON object)",
            )
            .more("headers sent with every call to a model endpoint a request names or `openai_api.models` lists (e.g. an API gateway's subscription key), never to an operator default such as `api.anthropic.com`, nor to Bedrock or Vertex AI; a TOML table, or in the environment a JSON object; values never printed, scrubbed from errors"),
            s(
                "duo_chat.max_tokens",
                "unset",
                "max tokens of every Duo Chat prompt",
            )
            .more("overrides the max tokens of every Duo Chat prompt (`chat/*` prompts and the chat agent; on `/v1/chat/agent`, the default when the request sets none)"),
            s(
                "bedrock_guardrail_config",
                "unset",
                "Bedrock guardrail, GitLab's JSON",
            )
            .more("Bedrock's guardrail as GitLab's gateway reads it: JSON `{\"guardrailIdentifier\", \"guardrailVersion\", \"trace\": \"enabled\"|\"disabled\"}`, sent as Converse `guardrailConfig`; `providers.bedrock.guardrail` wins when both are set"),
            s(
                "bedrock_guardrail_config_json",
                "unset",
                "the same, GitLab's other name",
            ),
        ],
    },
    Group {
        title: "Logging",
        settings: &[
            s(
                "logging.level",
                "info",
                "or a filter like info,duo_gateway=debug",
            )
            .more("root level, or `EnvFilter` directives (`info,duo_gateway=debug`); Python names (`INFO`, `WARNING`, `CRITICAL`) accepted"),
            s(
                "logging.format_json",
                "true",
                "JSON lines, or human-readable text",
            ),
            s("logging.to_file", "unset: stdout", "daily-rotated file")
            .more("write to this file, rotated daily as `<name>.YYYY-MM-DD`"),
            s(
                "logging.enable_request_logging",
                "false",
                "log prompts and answers (redacted)",
            )
            .more("log every request's prompts and answers (the LLM log), redacted"),
            s("logging.redact_patterns", "[]", "extra regexes to redact")
            .more("extra regexes (Rust `regex` syntax) redacted from the LLM log"),
            s(
                "logging.max_field_chars",
                "10000",
                "cap of each logged prompt or answer field",
            )
            .more("cap per logged prompt/answer field, in characters"),
            s(
                "logging.user_id_salt",
                "unset: unsalted",
                "salt of the logged user-id hash",
            )
            .more("salt for hashing `X-Gitlab-Global-User-Id` (set it: user ids are small integers)"),
            s(
                "logging.enable_litellm_logging",
                "false",
                "GitLab's LiteLLM switch: accepted, no effect",
            )
            .more("accepted for configurations carried over from GitLab's gateway (it turns on LiteLLM's debug log there); no effect: duo has no LiteLLM"),
        ],
    },
    Group {
        title: "Prompts",
        settings: &[s(
            "prompts.dir",
            "unset",
            "operator definitions (override/add)",
        )],
    },
    Group {
        title: "Readiness (GET /monitoring/ready)",
        settings: &[
            toml(
                "readiness.models",
                "[]",
                "list of {identifier, endpoint, family, api_key} to probe",
            ),
            s(
                "readiness.cache_s",
                "10",
                "how long a probe verdict is reused",
            ),
            s("readiness.timeout_s", "5", "how long one probe may take"),
        ],
    },
    Group {
        title: "Documentation search (POST /v1/search/gitlab-docs; build an index with `duo-gateway index-docs`)",
        settings: &[
            s(
                "docs_search.db",
                "unset",
                "the SQLite index (docs.db), opened read-only",
            )
            .more("the SQLite FTS5 index (the `docs.db` of GitLab's self-hosted image, or one `duo-gateway index-docs` built), opened read-only; unset: searches answer no documents"),
            s(
                "docs_search.connections",
                "4",
                "read-only connections serving searches",
            ),
        ],
    },
    #[cfg(feature = "openai-api")]
    Group {
        title: "OpenAI-compatible API (/v1/models, /v1/chat/completions, /v1/completions; see duo-openai-api/OPENAI_API.md)",
        settings: &[
            s(
                "openai_api.enabled",
                "false",
                "serve the OpenAI-compatible routes",
            ),
            s(
                "openai_api.api_keys",
                "[]",
                "client keys: a key or {name, key}",
            )
            .more("client keys: `\"key\"` or `{name, key}`; from the environment a JSON list (`[\"k1\",\"k2\"]`)"),
            s(
                "openai_api.api_keys_file",
                "unset",
                "one key per line, or <name> <key>",
            )
            .more("file of client keys: one key per line, or `<name> <key>`"),
            toml(
                "openai_api.models",
                "[]",
                "list of {name, identifier, endpoint, api_key | api_key_env | api_key_file, family}",
            )
            .more("the models, see below"),
        ],
    },
    Group {
        title: "Upstream clients ([providers]; durations as \"30s\", \"200ms\" or seconds; 0 turns a limit off)",
        settings: super::settings_providers::PROVIDERS,
    },
    Group {
        title: "Google Vertex AI ([providers.vertex], or GitLab's [google_cloud_platform] and [vertex_text_model]; [providers.vertex] wins)",
        settings: super::settings_providers::VERTEX,
    },
];

/// Printed after the table.
pub(crate) const NOTES: &[&str] = &[
    "(the AWS SDK's own AWS_REGION, AWS_ACCESS_KEY_ID, AWS_PROFILE, … work as usual)",
    "ANTHROPIC_API_KEY, OPENAI_API_KEY: the operator's keys when providers.anthropic.api_key, providers.openai.api_key are unset.",
    "VERTEXAI_PROJECT, VERTEXAI_LOCATION, GOOGLE_APPLICATION_CREDENTIALS, GCE_METADATA_HOST: Vertex AI's project, location, key file and metadata server when nothing above sets them.",
    "Other AIGW_* variables of GitLab's Python gateway are ignored with a warning.",
];
