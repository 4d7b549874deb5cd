"""The OpenAI-compatible client against a fake server on 127.0.0.1: replies, retries, cache, clear failures."""

import pytest

from bao.users.endpoint import ChatEndpoint, EndpointError, EndpointSettings


def _client(url, tmp_path, **kw):
    kw = {"retries": 2, "backoff_s": 0.0, "timeout_s": 2.0, "cache_dir": str(tmp_path / "cache"), **kw}
    return ChatEndpoint(EndpointSettings(base_url=url, model="judge", **kw), sleep=lambda s: None)


MSG = [{"role": "user", "content": "Is it a mammal?"}]


def test_reply_usage_and_secret_header(serve, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    srv = serve([("ok", "Yes")])
    c = _client(srv.url, tmp_path)
    assert c.complete(MSG) == "Yes"
    path, body, auth = srv.requests[0]
    assert path == "/v1/chat/completions" and body["model"] == "judge" and body["temperature"] == 0.0
    assert auth == "Bearer sk-secret"
    assert c.stats.prompt_tokens == 7 and c.stats.completion_tokens == 2
    cached = list((tmp_path / "cache").rglob("*.json"))
    assert len(cached) == 1 and "sk-secret" not in cached[0].read_text()


@pytest.mark.parametrize("failure", [("500",), ("badjson",), ("slow", 3.0)])
def test_transient_failures_are_retried(serve, tmp_path, failure):
    srv = serve([failure, ("ok", "No")])
    c = _client(srv.url, tmp_path, timeout_s=1.0)
    assert c.complete(MSG) == "No"
    assert c.stats.retries == 1 and len(c.stats.errors) == 1


def test_rerun_hits_the_cache_and_sends_nothing(serve, tmp_path):
    srv = serve([("ok", "Maybe")])
    assert _client(srv.url, tmp_path).complete(MSG) == "Maybe"
    again = _client(srv.url, tmp_path)
    assert again.complete(MSG) == "Maybe"
    assert len(srv.requests) == 1 and again.stats.cache_hits == 1 and again.stats.calls == 0


def test_persistent_failure_is_one_clear_error_and_caches_nothing(serve, tmp_path):
    srv = serve([("500",)] * 3)
    c = _client(srv.url, tmp_path)
    with pytest.raises(EndpointError, match=r"failed 3 times; last error: HTTP 500"):
        c.complete(MSG)
    assert len(srv.requests) == 3
    assert not list((tmp_path / "cache").rglob("*.json")) and not list((tmp_path / "cache").rglob("*.tmp"))


def test_client_errors_are_not_retried(serve, tmp_path):
    srv = serve([("404",)])
    with pytest.raises(EndpointError, match="HTTP 404"):
        _client(srv.url, tmp_path).complete(MSG)
    assert len(srv.requests) == 1


def test_unreachable_endpoint_is_reported(tmp_path):
    c = _client("http://127.0.0.1:9/v1", tmp_path, retries=1)
    with pytest.raises(EndpointError, match="127.0.0.1:9"):
        c.complete(MSG)
