//! The generator's data: the documentation sections, Duo Chat's fixed questions and the word
//! lists of technical writing and of GitLab.

use crate::corpus::Topic;

#[rustfmt::skip]
pub(crate) const TOPICS: &[Topic] = &[
    Topic {
        dir: "user/project/merge_requests",
        stage: "Create",
        group: "Code Review",
        words: &[
            "merge", "request", "approval", "approver", "rule", "reviewer", "diff", "squash",
            "rebase", "conflict", "draft", "thread", "CODEOWNERS", "branch", "target", "source",
        ],
    },
    Topic {
        dir: "user/project/issues",
        stage: "Plan",
        group: "Project Management",
        words: &[
            "issue", "label", "milestone", "board", "assignee", "weight", "due", "confidential",
            "template", "description", "epic", "task", "incident",
        ],
    },
    Topic {
        dir: "user/group/epics",
        stage: "Plan",
        group: "Product Planning",
        words: &[
            "epic", "group", "roadmap", "child", "parent", "issue", "milestone", "iteration",
            "health", "status",
        ],
    },
    Topic {
        dir: "user/project/repository",
        stage: "Create",
        group: "Source Code",
        words: &[
            "repository", "branch", "commit", "tag", "push", "clone", "fork", "mirror", "file",
            "LFS", "protected", "signing", "GPG", "default",
        ],
    },
    Topic {
        dir: "user/project/settings",
        stage: "Tenant Scale",
        group: "Organizations",
        words: &[
            "project", "setting", "visibility", "member", "permission", "role", "token",
            "access", "webhook", "integration", "archive", "transfer",
        ],
    },
    Topic {
        dir: "user/group",
        stage: "Tenant Scale",
        group: "Organizations",
        words: &[
            "group", "subgroup", "member", "namespace", "SAML", "SSO", "permission", "role",
            "inherit", "invite",
        ],
    },
    Topic {
        dir: "ci/pipelines",
        stage: "Verify",
        group: "Pipeline Execution",
        words: &[
            "pipeline", "job", "stage", "schedule", "trigger", "downstream", "parent", "child",
            "status", "retry", "cancel", "stuck", "merged", "CI/CD",
        ],
    },
    Topic {
        dir: "ci/yaml",
        stage: "Verify",
        group: "Pipeline Authoring",
        words: &[
            "keyword", "script", "rules", "needs", "include", "extends", "variables",
            "artifacts", "cache", "image", "services", "when", "job", "YAML", "CI/CD",
        ],
    },
    Topic {
        dir: "ci/runners",
        stage: "Verify",
        group: "Runner",
        words: &[
            "runner", "executor", "Kubernetes", "Docker", "shell", "autoscaling", "register",
            "token", "tag", "concurrent", "Helm", "instance", "fleet", "pod",
        ],
    },
    Topic {
        dir: "ci/variables",
        stage: "Verify",
        group: "Pipeline Security",
        words: &[
            "variable", "masked", "protected", "secret", "environment", "file", "predefined",
            "expand", "CI/CD", "value",
        ],
    },
    Topic {
        dir: "user/packages/container_registry",
        stage: "Package",
        group: "Container Registry",
        words: &[
            "registry", "container", "image", "Docker", "tag", "cleanup", "policy", "push",
            "pull", "login", "storage",
        ],
    },
    Topic {
        dir: "user/packages",
        stage: "Package",
        group: "Package Registry",
        words: &[
            "package", "registry", "Maven", "npm", "PyPI", "NuGet", "Composer", "Conan",
            "publish", "install", "token",
        ],
    },
    Topic {
        dir: "administration/auth",
        stage: "Software Supply Chain Security",
        group: "Authentication",
        words: &[
            "LDAP", "SAML", "OIDC", "OAuth", "SSO", "authentication", "provider", "user",
            "sync", "group", "identity",
        ],
    },
    Topic {
        dir: "administration",
        stage: "Systems",
        group: "Distribution",
        words: &[
            "instance", "admin", "setting", "Omnibus", "Gitaly", "Praefect", "Sidekiq", "Puma",
            "Redis", "PostgreSQL", "backup", "restore", "upgrade", "Geo", "replication",
            "secondary", "primary",
        ],
    },
    Topic {
        dir: "api",
        stage: "Create",
        group: "Import and Integrate",
        words: &[
            "API", "endpoint", "request", "response", "attribute", "parameter", "token", "REST",
            "GraphQL", "pagination", "curl", "JSON",
        ],
    },
    Topic {
        dir: "user/application_security",
        stage: "Application Security Testing",
        group: "Static Analysis",
        words: &[
            "vulnerability", "scanner", "SAST", "DAST", "dependency", "scanning", "secret",
            "detection", "policy", "report", "compliance", "SBOM", "license",
        ],
    },
    Topic {
        dir: "user/clusters/agent",
        stage: "Deploy",
        group: "Environments",
        words: &[
            "Kubernetes", "cluster", "agent", "deployment", "manifest", "Helm", "GitOps", "Flux",
            "namespace", "environment",
        ],
    },
    Topic {
        dir: "ci/environments",
        stage: "Deploy",
        group: "Environments",
        words: &[
            "environment", "deployment", "review", "app", "rollback", "protected", "approval",
            "release", "production", "staging",
        ],
    },
    Topic {
        dir: "user/gitlab_duo",
        stage: "AI-powered",
        group: "Duo Chat",
        words: &[
            "Duo", "chat", "suggestions", "code", "model", "prompt", "AI", "gateway", "self",
            "hosted", "feature",
        ],
    },
    Topic {
        dir: "topics/git",
        stage: "Create",
        group: "Source Code",
        words: &[
            "Git", "commit", "branch", "rebase", "merge", "stash", "cherry", "pick", "reset",
            "log", "remote", "clone",
        ],
    },
    Topic {
        dir: "user/profile",
        stage: "Software Supply Chain Security",
        group: "Authentication",
        words: &[
            "profile", "account", "password", "email", "token", "SSH", "key", "notification",
            "preference", "two-factor", "personal", "access",
        ],
    },
    Topic {
        dir: "development",
        stage: "none",
        group: "unassigned",
        words: &[
            "development", "contribute", "feature", "flag", "spec", "test", "migration",
            "database", "query", "review", "style",
        ],
    },
    Topic {
        dir: "install",
        stage: "Systems",
        group: "Distribution",
        words: &[
            "install", "Docker", "Helm", "chart", "package", "Omnibus", "requirement", "Linux",
            "Ubuntu", "Kubernetes",
        ],
    },
    Topic {
        dir: "operations/incident_management",
        stage: "Monitor",
        group: "Platform Insights",
        words: &[
            "incident", "alert", "escalation", "on-call", "schedule", "status", "page",
            "integration", "timeline",
        ],
    },
    Topic {
        dir: "user/project/pages",
        stage: "Plan",
        group: "Knowledge",
        words: &[
            "Pages", "domain", "certificate", "static", "site", "deploy", "custom", "TLS",
        ],
    },
    Topic {
        dir: "user/project/wiki",
        stage: "Plan",
        group: "Knowledge",
        words: &["wiki", "page", "Markdown", "sidebar", "history", "group"],
    },
    Topic {
        dir: "integration",
        stage: "Create",
        group: "Import and Integrate",
        words: &[
            "integration", "Jira", "Slack", "webhook", "Mattermost", "Jenkins", "service",
            "endpoint",
        ],
    },
];

/// What users ask Duo Chat about the documentation.
#[rustfmt::skip]
pub(crate) const FIXED_QUESTIONS: &[&str] = &[
    "How do I create a project?",
    "How do I configure a runner for Kubernetes?",
    "merge request approval rules",
    "How do I add a member to a group?",
    "What is a pipeline?",
    "How do I use CI/CD variables in a job?",
    "How can I protect a branch?",
    "How do I create a personal access token?",
    "Why is my pipeline stuck?",
    "How do I register a runner?",
    "How do I push an image to the container registry?",
    "How do I set up SAML SSO for my group?",
    "What are the required approvals for a merge request?",
    "How do I rebase a merge request?",
    "How do I squash commits?",
    "How do I close an issue with a commit?",
    "What is an epic?",
    "How do I move an issue to another project?",
    "How do I back up GitLab?",
    "How do I restore a backup?",
    "How do I upgrade GitLab?",
    "How do I configure LDAP?",
    "How do I use the REST API to create an issue?",
    "GraphQL API pagination",
    "How do I enable SAST in my pipeline?",
    "dependency scanning report",
    "How do I mask a variable?",
    "protected environments deployment approval",
    "How do I connect a Kubernetes cluster with the agent?",
    "How do I deploy to production?",
    "How do I roll back a deployment?",
    "What is GitLab Duo Chat?",
    "How do I use code suggestions?",
    "self-hosted models AI gateway",
    "How do I add an SSH key?",
    "How do I enable two-factor authentication?",
    "How do I change my password?",
    "container registry cleanup policy",
    "How do I publish an npm package?",
    "Maven package registry",
    "How do I set up a webhook?",
    "Jira integration",
    "How do I create a wiki page?",
    "GitLab Pages custom domain",
    "How do I schedule a pipeline?",
    "How do I trigger a downstream pipeline?",
    "What does the needs keyword do?",
    "How do I cache dependencies between jobs?",
    "How do I define artifacts in .gitlab-ci.yml?",
    "What are the Docker executor settings for runner autoscaling?",
    "How do I mirror a repository?",
    "Why did my job fail?",
];

/// The most common English words of technical writing, most common first.
#[rustfmt::skip]
pub(crate) const FUNCTION_WORDS: &[&str] = &[
    "the", "to", "a", "and", "of", "in", "you", "is", "for", "that", "can", "or", "be", "this",
    "with", "on", "if", "an", "as", "are", "it", "by", "from", "use", "not", "your", "at", "when",
    "must", "have", "do", "how", "which", "more", "all", "each", "only", "then", "new", "these",
    "see", "also", "other", "any", "has", "one", "after", "but", "they", "what", "was", "its",
    "into", "than", "been", "their", "we", "there", "so", "because", "about", "some", "before",
    "does", "same", "where", "who", "no", "most", "should", "would", "could", "might", "i", "my",
    "up", "out", "between", "without", "through", "over", "under", "while", "both", "many",
    "such", "first", "two", "three", "following", "example", "information", "way", "only", "own",
    "need", "want", "make", "get", "like", "well", "why", "will", "may", "here", "now", "even",
    "back", "just", "very", "much", "every", "until", "instead", "within", "per", "another",
    "either", "whether", "them", "those", "our", "us", "his", "her", "again", "always", "never",
    "often", "usually", "already", "still", "yet", "next", "last", "few", "several", "above",
    "below", "during", "against", "among", "across", "along", "around", "since", "though",
    "unless", "otherwise", "however", "therefore",
];

/// Verbs of technical writing.
#[rustfmt::skip]
pub(crate) const VERBS: &[&str] = &[
    "Add", "Create", "Delete", "Update", "Change", "Configure", "Enable", "Disable", "Select",
    "View", "Edit", "Manage", "Run", "Start", "Stop", "Install", "Upgrade", "Migrate", "Import",
    "Export", "Access", "Allow", "Require", "Define", "Specify", "Check", "Test", "Build",
    "Deploy", "Release", "Review", "Approve", "Assign", "Close", "Open", "Move", "Copy", "Search",
    "Filter", "Sort", "List", "Show", "Display", "Return", "Send", "Receive", "Store", "Save",
    "Load", "Read", "Write", "Connect", "Sign", "Register", "Verify", "Protect", "Restrict",
    "Limit", "Block", "Remove", "Replace", "Restore", "Schedule", "Trigger", "Retry", "Cancel",
    "Fail", "Pass", "Succeed", "Set", "Reset", "Generate", "Rotate", "Revoke", "Expire", "Share",
    "Invite", "Join", "Leave", "Follow", "Track", "Monitor", "Scan", "Detect", "Resolve", "Fix",
    "Troubleshoot", "Debug", "Log", "Print", "Mount", "Cache", "Fetch", "Pull", "Push", "Merge",
    "Rebase", "Squash", "Tag", "Publish", "Download", "Upload", "Archive", "Transfer", "Rename",
    "Mirror", "Sync", "Replicate", "Promote", "Demote", "Scale", "Provision", "Authenticate",
    "Authorize", "Encrypt", "Decrypt", "Validate", "Parse", "Render", "Preview", "Compare",
    "Include", "Exclude", "Extend", "Override", "Inherit", "Expand", "Collapse", "Pin", "Subscribe",
    "Notify", "Mention", "Comment", "Reply", "Link", "Embed", "Attach", "Report", "Audit",
    "Analyze", "Measure", "Optimize", "Reduce", "Increase", "Prevent", "Ensure", "Contain",
    "Provide", "Support", "Understand", "Learn", "Find", "Keep", "Help", "Choose", "Apply",
];

/// Nouns of technical writing.
#[rustfmt::skip]
pub(crate) const NOUNS: &[&str] = &[
    "user", "name", "file", "page", "value", "field", "setting", "option", "level", "role",
    "permission", "member", "owner", "maintainer", "developer", "guest", "reporter",
    "administrator", "instance", "server", "service", "database", "storage", "network",
    "version", "feature", "flag", "table", "button", "menu", "sidebar", "tab", "dialog", "panel",
    "dropdown", "text", "message", "comment", "description", "label", "status", "state", "type",
    "key", "secret", "variable", "path", "directory", "folder", "command", "line", "output",
    "log", "error", "warning", "response", "header", "parameter", "attribute", "endpoint",
    "resource", "object", "item", "entry", "record", "event", "report", "dashboard", "chart",
    "metric", "alert", "notification", "email", "address", "domain", "host", "port", "URL",
    "link", "account", "password", "session", "time", "date", "day", "hour", "minute", "number",
    "size", "rate", "quota", "usage", "plan", "tier", "subscription", "license", "seat", "cost",
    "limit", "timeout", "interval", "duration", "period", "window", "request", "change", "step",
    "process", "workflow", "task", "list", "view", "section", "area", "part", "group", "team",
    "organization", "company", "customer", "client", "browser", "editor", "terminal", "shell",
    "script", "tool", "library", "framework", "language", "template", "format", "syntax",
    "expression", "pattern", "filter", "query", "result", "document", "documentation", "guide",
    "tutorial", "reference", "topic", "overview", "requirement", "prerequisite", "limitation",
    "behavior", "action", "operation", "method", "function", "module", "component", "system",
    "platform", "application", "environment", "configuration", "installation", "upgrade",
    "migration", "integration", "connection", "authentication", "authorization", "encryption",
    "certificate", "proxy", "firewall", "address", "region", "zone", "node", "cluster", "pod",
    "volume", "disk", "memory", "CPU", "process", "thread", "queue", "worker", "job", "task",
    "schedule", "history", "audit", "event", "activity", "analytics", "insight", "trend",
    "problem", "issue", "question", "answer", "solution", "workaround", "cause", "reason",
    "case", "scenario", "detail", "context", "scope", "boundary", "rule", "policy", "standard",
    "practice", "recommendation", "default", "custom", "exception", "fallback", "retry",
];

/// Adjectives and adverbs of technical writing.
#[rustfmt::skip]
pub(crate) const ADJECTIVES: &[&str] = &[
    "available", "required", "optional", "specific", "different", "multiple", "single",
    "public", "private", "internal", "external", "local", "remote", "global", "current",
    "previous", "latest", "older", "newer", "existing", "additional", "separate", "common",
    "important", "possible", "necessary", "valid", "invalid", "empty", "full", "large", "small",
    "fast", "slow", "secure", "safe", "automatic", "manual", "direct", "indirect", "active",
    "inactive", "enabled", "disabled", "successful", "failed", "pending", "running", "blocked",
    "visible", "hidden", "read-only", "writable", "encrypted", "unique", "duplicate",
    "recursive", "nested", "top-level", "relative", "absolute", "temporary", "permanent",
    "experimental", "beta", "generally", "deprecated", "removed", "supported", "unsupported",
    "compatible", "recommended", "typically", "automatically", "manually", "immediately",
    "only", "instead", "also", "usually", "directly", "correctly", "successfully", "securely",
];

/// GitLab's terms of every section, common in the whole corpus; the other [`GITLAB_WORDS`] and
/// the [`Topic`] words are frequent only in their sections.
#[rustfmt::skip]
pub(crate) const GITLAB_COMMON: &[&str] = &[
    "gitlab", "project", "group", "merge", "request", "pipeline", "job", "branch", "commit",
    "repository", "issue", "token", "api", "ci/cd", "runner", "docker", "image", "yaml",
    "instance", "admin", "maintainer", "owner", "self-managed", "dedicated", "deployment",
    "environment", "package", "security", "code", "user", "member", "role", "permission",
    "setting", "access", "file", "default", "feature", "release", "review",
];

/// GitLab's terms.
#[rustfmt::skip]
pub(crate) const GITLAB_WORDS: &[&str] = &[
    "gitlab", "pipeline", "runner", "merge", "request", "project", "group", "repository",
    "issue", "epic", "token", "kubernetes", "registry", "branch", "commit", "tag", "job", "stage",
    "artifact", "cache", "container", "docker", "image", "helm", "cluster", "agent", "namespace",
    "milestone", "iteration", "board", "wiki", "snippet", "package", "maven", "npm", "terraform",
    "deployment", "environment", "approval", "approver", "codeowners", "protected", "fork",
    "mirror", "push", "pull", "clone", "rebase", "squash", "diff", "conflict", "discussion",
    "thread", "todo", "webhook", "integration", "jira", "slack", "ldap", "saml", "oidc", "oauth",
    "omnibus", "gitaly", "praefect", "sidekiq", "puma", "workhorse", "postgresql", "redis",
    "nginx", "geo", "replica", "secondary", "primary", "backup", "rake", "console", "api",
    "graphql", "rest", "scim", "sso", "personal", "deploy", "ssh", "gpg", "compliance",
    "vulnerability", "scanner", "sast", "dast", "dependency", "scanning", "fuzzing", "coverage",
    "quality", "sbom", "security", "yaml", "ci/cd", "include", "extends", "needs", "variables",
    "services", "manual", "downstream", "upstream", "parent", "child", "matrix", "parallel",
    "executor", "autoscaling", "fleeting", "saas", "dedicated", "self-managed", "duo", "chat",
    "suggestions", "code", "ai", "gateway", "model", "prompt", "analytics", "dora", "incident",
    "pages", "release", "reviewer", "assignee", "label", "weight", "roadmap", "subgroup",
    "visibility", "maintainer", "owner", "admin", "instance", "group-level", "project-level",
    "instance-level", "merge-train", "fast-forward", "draft", "pipeline-level", "keyword",
    "script", "rules", "artifacts", "runners", "pipelines", "projects", "groups", "issues",
];
