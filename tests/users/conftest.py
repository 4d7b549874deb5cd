"""A fake OpenAI-compatible server on 127.0.0.1 for the endpoint and LLM-user tests."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FakeServer:
    """Replays a script of behaviours, one per request: ("ok", text) | ("raw", body) | ("500",) | ("badjson",) |
    ("slow", s) | ("404",). Records every request body and Authorization header."""

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
                if kind == "raw":
                    payload = arg[0].encode()
                else:
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


