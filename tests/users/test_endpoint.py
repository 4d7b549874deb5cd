"""The OpenAI-compatible client against a fake server on 127.0.0.1: replies, retries, cache, clear failures."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bao.users.endpoint import ChatEndpoint, EndpointError, EndpointSettings


class FakeServer:
    """Replays a script of behaviours, one per request: ("ok", text) | ("500",) | ("badjson",) | ("slow", s) |
    ("404",). Records every request body and Authorization header."""

    def __init__(self, script):
        self.script, self.requests = list(script), []
        server = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((self.path, body, self.headers.get("Authorization")))
                kind, *arg = server.script.pop(0) if server.script else ("ok", "default")
                if kind == "slow":
                    import time

                    time.sleep(arg[0])
                    kind, arg = "ok", ["late"]
                if kind in ("500", "404"):
                    self.send_response(int(kind))
                    self.end_headers()
                    self.wfile.write(b"nope")
                    return
                payload = b"{not json" if kind == "badjson" else json.dumps(
                    {"choices": [{"message": {"content": arg[0]}}],
                     "usage": {"prompt_tokens": 7, "completion_tokens": 2}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture()
def serve():
    servers = []

    def start(script):
        servers.append(FakeServer(script))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


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
