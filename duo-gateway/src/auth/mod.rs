//! Authentication and authorisation of callers (GitLab instance JWTs, self-signed tokens, bypass).
