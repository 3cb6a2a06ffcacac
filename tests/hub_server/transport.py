"""The HTTP side: one request in, one answer out, with faults applied. TEST ONLY.

Mirrors how huggingface.co talks, not one endpoint: HTTP/1.1 keep-alive with a Content-Length on every
answer, chunked request bodies accepted, HEAD answered without a body. An injected fault answers its
status (or drops the connection) before the route's handler runs; a bug in a handler answers 500 with
its reason rather than hang. benchmarks/ patch ``_Handler``'s ``do_*`` methods to add latency.
"""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .protocol import HubError, Request

if TYPE_CHECKING:
    from .server import HubServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the Hub; every answer carries a Content-Length

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the hub keeps its own request log
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        hub: HubServer = self.server.hub  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        body = self._read_body()
        route, handler = hub.dispatch(self.command, split.path)
        fault = hub._take_fault(route)
        if fault is None:
            hub._run_concurrent_writers(route)
        if fault is not None and fault.status is None:
            hub._log(self.command, route, split.path, None)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            if fault is not None:
                raise HubError(
                    fault.status or 500, f"Injected fault on {route} (request {fault.seen})", headers=fault.headers
                )
            request = Request(
                self.command,
                split.path,
                parse_qs(split.query, keep_blank_values=True),
                self.headers,
                body,
                f"http://{self.headers.get('Host')}",
                hub._user(self.headers),
            )
            response = handler(request)
        except HubError as error:
            response = error.response()
        except Exception as error:  # a bug in the stand-in: answer 500 with the reason rather than hang
            response = HubError(500, f"Test Hub internal error: {error!r}").response()
        hub._log(self.command, route, split.path, response.status)
        data, content_type = response.encoded()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
