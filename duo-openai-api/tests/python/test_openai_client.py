"""Drives duo-gateway's OpenAI-compatible API with the official `openai` Python client.

Starts nothing itself. The environment names the gateway and what to expect:

- DUO_BASE_URL: the API base, e.g. http://127.0.0.1:5052/v1
- DUO_API_KEY: a client key from openai_api.api_keys
- DUO_MODELS: JSON object {model name: the exact text its upstream answers}, one model per
  provider (vLLM, Azure OpenAI, Bedrock)

`cargo run -p duo-gateway --example openai_harness -- <python>` starts fake upstreams and the
gateway, sets these variables and runs this file with pytest.
"""

import json
import os
import sys

import openai
import pytest

BASE_URL = os.environ["DUO_BASE_URL"]
API_KEY = os.environ["DUO_API_KEY"]
MODELS = json.loads(os.environ["DUO_MODELS"])
MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello."},
]


@pytest.fixture(scope="module")
def client():
    return openai.OpenAI(base_url=BASE_URL, api_key=API_KEY, max_retries=0, timeout=30)


def test_models_list_names_every_configured_model(client):
    models = client.models.list()
    assert sorted(m.id for m in models.data) == sorted(MODELS)
    assert all(m.object == "model" for m in models.data)
    assert client.models.retrieve(next(iter(MODELS))).id == next(iter(MODELS))


@pytest.mark.parametrize("model", list(MODELS))
def test_chat_completion(client, model):
    resp = client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=32, temperature=0.2)
    assert resp.object == "chat.completion"
    assert resp.id.startswith("chatcmpl-")
    assert resp.model == model
    assert len(resp.choices) == 1
    choice = resp.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == MODELS[model]
    assert choice.finish_reason == "stop"
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    assert resp.usage.completion_tokens > 0


@pytest.mark.parametrize("model", list(MODELS))
def test_chat_completion_stream_with_usage(client, model):
    stream = client.chat.completions.create(
        model=model,
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({c.id for c in chunks}) == 1
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == MODELS[model]
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and last.usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


@pytest.mark.parametrize("model", list(MODELS))
def test_chat_completion_stream_without_usage(client, model):
    chunks = list(client.chat.completions.create(model=model, messages=MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == MODELS[model]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


@pytest.mark.parametrize("model", list(MODELS))
def test_completion(client, model):
    resp = client.completions.create(model=model, prompt="def add(a, b):", max_tokens=16, stop=["\n\n"])
    assert resp.object == "text_completion"
    assert resp.id.startswith("cmpl-")
    assert resp.choices[0].text == MODELS[model]
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage.total_tokens > 0


@pytest.mark.parametrize("model", list(MODELS))
def test_completion_stream(client, model):
    stream = client.completions.create(
        model=model, prompt="def add(a, b):", stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].text for c in chunks if c.choices) == MODELS[model]
    assert chunks[-1].usage is not None


def test_a_wrong_key_raises_authentication_error():
    bad = openai.OpenAI(base_url=BASE_URL, api_key="sk-not-a-configured-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as raised:
        bad.models.list()
    assert raised.value.status_code == 401
    assert raised.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model=next(iter(MODELS)), messages=MESSAGES)


def test_an_unknown_model_raises_not_found(client):
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="no-such-model", messages=MESSAGES)
    assert raised.value.code == "model_not_found"


def test_a_bad_parameter_raises_bad_request(client):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=next(iter(MODELS)), messages=MESSAGES, temperature=5)
    assert raised.value.param == "temperature"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
