"""Webhook delivery (§3.7, §8.9): one asynchronous POST per webhook and event, plus the sink."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from typing import Any
from urllib.parse import urlencode

log = logging.getLogger(__name__)
MAX_RECORDS = 10000
USER_AGENT = "impdesk-emulator-webhooks"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Deliveries are one POST: a redirect is recorded as its status, never followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# No proxies from the environment: deliveries go straight to the URL (often 127.0.0.1).
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def encode_body(payload: dict, content_type: str) -> bytes:
    """The payload as a JSON object or, for form content, the same keys form-encoded."""
    if content_type == "application/x-www-form-urlencoded":
        return urlencode({k: _form_value(v) for k, v in payload.items()}).encode("utf-8")
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def _form_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def post(url: str, body: bytes, content_type: str, timeout: float) -> int | str:
    """POST once; the answer's HTTP status, or an error text when there was none."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": content_type, "User-Agent": USER_AGENT,
    })
    try:
        with _OPENER.open(request, timeout=timeout) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code
    except urllib.error.URLError as exc:
        return f"error: {exc.reason}"
    except Exception as exc:  # timeouts, resets, malformed answers: recorded, never raised
        return f"error: {type(exc).__name__}: {exc}"


class Dispatcher:
    """Finds the webhooks of an event and delivers to each on its own background thread."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self._lock = threading.Lock()
        self._records: deque[dict] = deque(maxlen=MAX_RECORDS)
        self._seq = 0
        self._generation = 0  # bumped by clear(): deliveries started before it are not recorded
        self.sink = Sink()

    def clear(self) -> None:
        """Forget recorded deliveries and sink entries (emulator reset)."""
        with self._lock:
            self._generation += 1
            self._records.clear()
        self.sink.clear()

    def fire(self, group_id: str, event: str, payload: dict) -> None:
        """Deliver `payload` to the group's `event` webhooks (caller holds the store lock)."""
        store = self.emulator.store
        hooks = sorted((w for w in store.webhooks.values()
                        if w.group_id == group_id and w.event == event),
                       key=lambda w: (w.created_at, w.id))
        if not hooks:
            return
        timeout = max(0.001, float(store.config.get("webhook_timeout_s", 5)))
        for hook in hooks:
            with self._lock:
                self._seq += 1
                record = {
                    "seq": self._seq, "ts": time.time(), "webhook_id": hook.id, "event": event,
                    "url": hook.url, "content_type": hook.content_type,
                    "payload": dict(payload), "result": None,
                }
                generation = self._generation
            thread = threading.Thread(target=self._deliver, args=(record, timeout, generation),
                                      name=f"webhook-{record['seq']}", daemon=True)
            thread.start()

    def _deliver(self, record: dict, timeout: float, generation: int) -> None:
        body = encode_body(record["payload"], record["content_type"])
        record["result"] = post(record["url"], body, record["content_type"], timeout)
        with self._lock:
            if generation != self._generation:
                return
            self._records.append(record)
        log.debug("webhook %s %s -> %s", record["event"], record["url"], record["result"])

    def deliveries(self) -> list[dict]:
        """Finished attempts in firing order: {seq, ts, webhook_id, event, url, content_type,
        payload, result} with `result` the HTTP status or an error text."""
        with self._lock:
            return [dict(r) for r in sorted(self._records, key=lambda r: r["seq"])]

    def clear_deliveries(self) -> None:
        with self._lock:
            self._records.clear()

    # -- the control surface's sink (§8.9) -----------------------------------------------------
    def sink_record(self, name: str, content_type: str | None, body_text: str) -> dict:
        return self.sink.record(name, content_type, body_text)

    def sink_list(self) -> list[dict]:
        return self.sink.list()

    def sink_clear(self) -> None:
        self.sink.clear()


class Sink:
    """Records what is POSTed to /_emulator/sink/<name>: {seq, ts, name, content_type, body}."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict] = deque(maxlen=MAX_RECORDS)
        self._seq = 0

    def record(self, name: str, content_type: str | None, body: str) -> dict:
        with self._lock:
            self._seq += 1
            entry = {"seq": self._seq, "ts": time.time(), "name": name,
                     "content_type": content_type, "body": body}
            self._entries.append(entry)
            return dict(entry)

    def list(self) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
