"""The HTTP/1.1 front end of the emulator and the embeddable EmulatorServer."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .errors import ApiError
from .framework import MAX_BODY, ControlError, Request, Response, StreamResponse
from .service import DROP, Emulator, split_target

log = logging.getLogger(__name__)
DRAIN_LIMIT = 64 * 1024 * 1024  # beyond this an oversized body is not read; the connection closes
JSON_AUTH_PATHS = ("/auth", "/auth/token")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Head and body go out as separate writes; with Nagle on, each answer waited ~40 ms for the
    # client's delayed ACK.
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return "impCentral-emulator"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # never print requests: they may carry secrets

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def __getattr__(self, name: str) -> Any:
        # Any other method name reaches the router too (405 VX120 or 404 NF102), not a 501 page.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, huge headers) as JSON:API errors."""
        err = ApiError("VX100")
        body = json.dumps({"errors": [dict(err.errors[0], status=str(code))]}).encode()
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # unparsable request line: still answer HTTP/1.1
            self.request_version = "HTTP/1.1"
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/vnd.api+json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    # -- plumbing ------------------------------------------------------------------
    def _read_body(self) -> tuple[bytes, bool]:
        """The request body and whether it was over the 16 MiB limit."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            if length > DRAIN_LIMIT:
                self.close_connection = True
                return b"", True
            remaining = length
            while remaining > 0:
                got = self.rfile.read(min(remaining, 1 << 20))
                if not got:
                    break
                remaining -= len(got)
            return b"", True
        return (self.rfile.read(length) if length > 0 else b""), False

    def _read_chunked(self) -> tuple[bytes, bool]:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                self.close_connection = True
                return b"", True
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunk = self.rfile.read(size)
            self.rfile.readline(8)
            total += size
            if total <= MAX_BODY:
                parts.append(chunk)
            elif total > DRAIN_LIMIT:
                self.close_connection = True
                return b"", True
        return (b"", True) if total > MAX_BODY else (b"".join(parts), False)

    def _serve(self) -> None:
        emulator = self.server.emulator
        started = time.perf_counter()
        body, too_big = self._read_body()
        path, query = split_target(self.path)
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        req = Request(self.command, path, query, self.headers, body, self.client_address[0],
                      "http://" + host, app=emulator)
        if too_big:
            req.body = b"\xff"  # parses as invalid UTF-8: VX100 wherever a body is read
        if path == "/v5" or path.startswith("/v5/"):
            req.path = path[3:] or "/"
            answer = emulator.handle_api(req, path)

            def record(status: int) -> None:
                emulator.record({
                    "ts": time.time(),
                    "method": self.command,
                    "path": self.path.partition("?")[0],
                    "query": self.path.partition("?")[2],
                    "headers": dict(self.headers.items()),
                    "body": body.decode("utf-8", "replace") if body else None,
                    "status": status,
                    "account": req.account.username if req.account else None,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                })

            if isinstance(answer, StreamResponse):
                # A stream lasts as long as its connection: log it once its head is out.
                run = answer.run

                def logged_run(handler: Any) -> None:
                    record(200)
                    run(handler)

                answer.run = logged_run
                self._answer(answer)
            else:
                # Logged before it is written, so a client that reads the log right after its
                # answer always finds its request there.
                record(answer.status if isinstance(answer, Response) else 0)
                self._answer(answer, json_body=req.path in JSON_AUTH_PATHS)
        elif emulator.control_enabled and (path == "/_emulator" or path.startswith("/_emulator/")):
            req.path = path[len("/_emulator"):] or "/"
            self._control(emulator, req)
        else:
            err = ApiError("NF102", method=self.command, path=path)
            self._answer(Response(err.status, err.document()))

    def _control(self, emulator: Emulator, req: Request) -> None:
        try:
            handler, _, _, params = emulator.control.match(req.method, req.path)
            status, obj = handler(emulator, req, **params)
        except ApiError as exc:  # routing errors of the control router
            status = 405 if exc.status == 405 else 404
            what = "method" if status == 405 else "control endpoint"
            obj = {"error": f"No {what} matches {req.method} /_emulator{req.path}."}
        except ControlError as exc:
            status, obj = exc.status, {"error": exc.text}
        except Exception:
            log.exception("control request failed: %s %s", req.method, req.path)
            status, obj = 500, {"error": "internal error"}
        self._answer(Response(status, obj, content_type="application/json"))

    def _answer(self, answer: Any, json_body: bool = False) -> int:
        """Write an answer; returns the status for the request log (0 = dropped)."""
        if answer is DROP:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return 0
        if isinstance(answer, StreamResponse):
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.flush()
            try:
                answer.run(self)
            except OSError:
                pass
            return 200
        assert isinstance(answer, Response)
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            self.send_header(key, value)
        if answer.status in (204, 304) or (answer.doc is None and answer.status < 300):
            if answer.status != 204:
                self.send_header("Content-Length", "0")
            self.end_headers()
            return answer.status
        content_type = "application/json" if json_body else answer.content_type
        payload = json.dumps(answer.doc, ensure_ascii=False, separators=(",", ":")).encode()
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        return answer.status


class EmulatorServer:
    """A running emulator on a background thread; a context manager for tests and demo mode."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: str = "demo",
                 latency_ms: int = 0, rate_limit: int | None = 40, log_rate: int | None = None,
                 simulation: bool | None = None, control: bool = True, random_seed: int = 0,
                 config: dict | None = None, **seed_options: Any) -> None:
        cfg: dict[str, Any] = dict(config or {})
        if rate_limit is not None:
            cfg.setdefault("rate_limit", {})["limit"] = int(rate_limit)
        sim: dict[str, Any] = dict(cfg.get("simulation", {}))
        if log_rate is not None:
            sim["log_rate_per_min"] = log_rate
        if simulation is not None:
            sim["enabled"] = simulation
        if sim:
            cfg["simulation"] = sim
        self.emulator = Emulator(seed=seed, config=cfg, control=control, random_seed=random_seed,
                                 seed_options=seed_options,
                                 simulation_override=simulation,
                                 start_faults={"latency_ms": latency_ms} if latency_ms else None)
        self._httpd = _Server((host, port), self.emulator)
        bound_host, bound_port = self._httpd.server_address[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.origin = f"http://{shown}:{bound_port}"
        self.base_url = self.origin + "/v5"
        self.control_url = self.origin + "/_emulator"
        self.emulator.base_url = self.base_url
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def start(self) -> EmulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever,
                                            kwargs={"poll_interval": 0.2},
                                            name="emulator-http", daemon=True)
            self._thread.start()
        return self

    def reset(self, seed: str | None = None, config: dict | None = None, **kw: Any) -> dict:
        return self.emulator.reset(seed=seed, config=config, **kw)

    def stop(self) -> None:
        self.emulator.stop()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
