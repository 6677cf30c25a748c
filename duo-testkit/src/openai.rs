//! Fake vLLM / OpenAI-compatible and Azure OpenAI servers (JSON and SSE).
