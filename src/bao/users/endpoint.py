"""An OpenAI-compatible chat client for the LLM user simulator, judge and teacher (vLLM, any hosted API).

Design choices (ours; the originals call the ``openai`` package with 3 tries 2 s apart, 10 s timeout):

* **No SDK.** One ``POST {base_url}/chat/completions`` over ``urllib``: the same request works against vLLM,
  SGLang, llama.cpp's server and hosted APIs, and the project needs no extra dependency.
* **Secrets.** The API key is read from an environment variable named in the config (``api_key_env``), sent
  only in the ``Authorization`` header, and never logged, cached or written to provenance.
* **Determinism and cost.** Temperature 0 by default. Every reply is cached on disk under the SHA-256 of the
  request content (model, messages, temperature, max_tokens; not the key, not the URL), so a rerun, a DVC
  reproduction or a second seed replays it for free. The cache is a directory of small JSON files written
  atomically, safe for several processes at once.
* **Failures.** Timeouts, connection errors, HTTP 429/5xx and malformed JSON are retried with exponential
  backoff (``retries`` times); then :class:`EndpointError` says which URL failed, how, and how often. HTTP
  4xx other than 429 is not retried (a wrong model name will not fix itself).
* **Accounting.** ``stats`` counts calls, cache hits, retries, prompt/completion tokens (when the server
  reports usage) and wall seconds, for provenance.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bao.io import atomic_write_text


class EndpointError(RuntimeError):
    """The endpoint failed after every retry (or refused the request outright)."""


@dataclass(frozen=True)
class EndpointSettings:
    base_url: str
    """e.g. ``http://127.0.0.1:8000/v1`` (vLLM) or ``https://api.openai.com/v1``."""
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.0
    max_tokens: int = 512
    timeout_s: float = 30.0
    retries: int = 3
    backoff_s: float = 2.0
    cache_dir: str = ""
    """"" = no cache."""


@dataclass
class EndpointStats:
    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"calls": self.calls, "cache_hits": self.cache_hits, "retries": self.retries,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "seconds": round(self.seconds, 3), "errors": len(self.errors)}


class _Retryable(Exception):
    pass


class ChatEndpoint:
    """``complete(messages) -> str`` against one OpenAI-compatible endpoint, with retries and a disk cache."""

    def __init__(self, settings: EndpointSettings, sleep=time.sleep):
        if not settings.base_url or not settings.model:
            raise ValueError("an endpoint needs base_url and model")
        self.s = settings
        self.stats = EndpointStats()
        self._lock = threading.Lock()  # episodes may run in threads (agent eval): the counters stay exact
        self._sleep = sleep
        self._cache = Path(settings.cache_dir) if settings.cache_dir else None

    # -- public ----------------------------------------------------------------------------------------------
    def complete(self, messages: list[dict], max_tokens: int | None = None) -> str:
        """The reply's text (``""`` when the model answered with tool calls only)."""
        return self.message(messages, max_tokens=max_tokens).get("content") or ""

    def message(self, messages: list[dict], tools: list[dict] | None = None, max_tokens: int | None = None) -> dict:
        """The reply message as a dict (``content`` and, when ``tools`` are offered, maybe ``tool_calls``)."""
        body = {"model": self.s.model, "messages": messages, "temperature": self.s.temperature,
                "max_tokens": max_tokens or self.s.max_tokens}
        if tools:
            body["tools"] = tools
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        cached = self._cache_get(key)
        if cached is not None:
            with self._lock:
                self.stats.cache_hits += 1
            return cached
        msg = self._call_with_retries(body)
        self._cache_put(key, body, msg)
        return msg

    # -- internals -------------------------------------------------------------------------------------------
    def _call_with_retries(self, body: dict) -> dict:
        url = self.s.base_url.rstrip("/") + "/chat/completions"
        last = ""
        for attempt in range(self.s.retries + 1):
            if attempt:
                with self._lock:
                    self.stats.retries += 1
                self._sleep(self.s.backoff_s * 2 ** (attempt - 1))
            t0 = time.perf_counter()
            try:
                return self._call_once(url, body)
            except _Retryable as e:
                last = str(e)
                with self._lock:
                    self.stats.errors.append(last)
            finally:
                with self._lock:
                    self.stats.calls += 1
                    self.stats.seconds += time.perf_counter() - t0
        raise EndpointError(f"endpoint {url} (model {self.s.model}) failed {self.s.retries + 1} times; "
                            f"last error: {last}")

    def _call_once(self, url: str, body: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.s.api_key_env, "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.s.timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            if e.code == 429 or e.code >= 500:
                raise _Retryable(f"HTTP {e.code}") from None
            detail = e.read()[:300].decode("utf-8", "replace")
            raise EndpointError(f"endpoint {url} refused the request: HTTP {e.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            raise _Retryable(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from None
        try:
            data = json.loads(raw)
            msg = data["choices"][0]["message"]
            text, calls = msg.get("content"), msg.get("tool_calls")
            if not isinstance(text, str) and not calls:
                raise TypeError("the message has neither text nor tool calls")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
            raise _Retryable(f"malformed reply ({type(e).__name__}): {raw[:120]!r}") from None
        usage = data.get("usage") or {}
        with self._lock:
            self.stats.prompt_tokens += int(usage.get("prompt_tokens", 0) or 0)
            self.stats.completion_tokens += int(usage.get("completion_tokens", 0) or 0)
        out = {"role": "assistant", "content": text if isinstance(text, str) else ""}
        if calls:
            out["tool_calls"] = calls
        return out

    def _path(self, key: str) -> Path:
        return self._cache / key[:2] / f"{key}.json"

    def _cache_get(self, key: str) -> dict | None:
        if self._cache is None:
            return None
        p = self._path(key)
        try:
            reply = json.loads(p.read_text(encoding="utf-8"))["reply"]
            return reply if isinstance(reply, dict) else None
        except (FileNotFoundError, ValueError, KeyError):
            return None

    def _cache_put(self, key: str, body: dict, msg: dict) -> None:
        if self._cache is not None:
            atomic_write_text(self._path(key), json.dumps({"request": body, "reply": msg}) + "\n")
