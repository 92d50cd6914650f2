"""The dev server's HTTP side: safe static serving of the serve folder, the error page, SSE.

Only requests whose Host header names the server are answered (no DNS rebinding); idle and
half-sent connections are closed after a few seconds; handler threads are capped.
"""

from __future__ import annotations

import contextlib
import ipaddress
import mimetypes
import os
import queue
import re
import shutil
import socket
import stat
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote

from bitopia_site.serve.live import BuildEvent, ServeState

EVENTS_PATH = "/__bitopia/events"
SCRIPT_PATH = "/__bitopia/livereload.js"
BUILD_PLACEHOLDER = "__BITOPIA_BUILD__"
SCRIPT_TAG = f'<script src="{SCRIPT_PATH}" data-build="{BUILD_PLACEHOLDER}" data-events="{EVENTS_PATH}"></script>'
LIVERELOAD_JS = (Path(__file__).resolve().parent / "livereload.js").read_bytes()
KEEPALIVE_SECONDS = 15.0  # an SSE comment this often keeps an open page's stream alive through quiet hours
BUILD_WAIT_SECONDS = 120.0
IDLE_SECONDS = 5.0  # a connection that sends nothing for this long (idle or half a request) is closed
MAX_HANDLERS = 64  # threads answering at once, event streams included; more connections get a 503
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("", "0.0.0.0", "::")
_HOST = re.compile(r"(?:\[([0-9a-f:.%]+)\]|([^:\[\]/@\s]+))(?::[0-9]{1,5})?")
PLAIN = "text/plain; charset=utf-8"
TYPES = {
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".json": "application/json", ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8", ".svg": "image/svg+xml", ".woff2": "font/woff2", ".woff": "font/woff",
    ".webp": "image/webp", ".ico": "image/x-icon", ".map": "application/json",
}


class Served(Protocol):
    """What the HTTP side needs of the dev server (serve.server.DevServer)."""

    @property
    def folder(self) -> Path:
        """The folder served."""

    def settled(self, timeout: float, route: str = "/") -> ServeState:
        """Wait while a build is due or running (but for a page of `route` it already made); then
        what requests see."""

    def subscribe(self, page: str = "") -> queue.Queue[BuildEvent | None]:
        """A queue that gets each build's event, then None when the server stops; `page` is the
        URL path the browser shows."""

    def unsubscribe(self, inbox: queue.Queue[BuildEvent | None]) -> None: ...

    def catch_up(self, seen: str) -> BuildEvent | None:
        """The event to send at once to a page showing an older build `seen`."""

    def log(self, text: str, error: bool = False) -> None: ...


class Refused(Exception):
    """A request path that may not be served; carries the status to answer with."""

    def __init__(self, status: HTTPStatus) -> None:
        super().__init__(status.phrase)
        self.status = status


def request_parts(target: str) -> tuple[list[str], bool]:
    """The path segments a request names, and whether it ends with '/'.

    Refuses (400) what no file can be called: no leading '/', NUL and other control characters,
    backslashes, bad percent-encoding; refuses (404) '.' and '..' segments, raw or encoded, and
    hidden files. Pure: the file system is checked by `resolve` afterwards.
    """
    if not target.startswith("/") or target.startswith("//"):
        raise Refused(HTTPStatus.BAD_REQUEST)
    path = target.split("?", 1)[0].split("#", 1)[0]
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise Refused(HTTPStatus.BAD_REQUEST) from None
    if "\\" in decoded or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in decoded):
        raise Refused(HTTPStatus.BAD_REQUEST)
    segments = decoded.split("/")[1:]
    if any(seg in (".", "..") or seg.startswith(".") for seg in segments):
        raise Refused(HTTPStatus.NOT_FOUND)
    return [seg for seg in segments if seg], decoded.endswith("/")


def host_name(header: str | None) -> str | None:
    """The name a Host header gives, lower-cased, without port or brackets; None if malformed."""
    match = _HOST.fullmatch((header or "").strip().lower())
    return (match.group(1) or match.group(2)) if match else None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return getattr(ip, "ipv4_mapped", None) or ip


def resolve(folder: Path, parts: list[str]) -> Path | None:
    """The file or folder below `folder` the parts name, if it exists and stays inside (symlinks too)."""
    candidate = folder.joinpath(*parts)
    real = os.path.realpath(candidate)
    base = os.path.realpath(folder)
    if real != base and not real.startswith(base.rstrip(os.sep) + os.sep):
        return None
    return candidate if os.path.exists(real) else None


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in TYPES:
        return TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


class Handler(BaseHTTPRequestHandler):
    """GET and HEAD on the serve folder; everything else is refused."""

    server: "DevHTTPServer"
    server_version = "bitopia-serve"
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS  # the socket's: bounds each read of a request and each write of an answer
    # The headers and the body go out in two writes; with Nagle's algorithm the body waits for the
    # client to acknowledge the headers, which it delays (40 ms on Linux) on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass

    def parse_request(self) -> bool:
        """The stdlib's parsing, then a 403 for a Host that is not this server (DNS rebinding)."""
        if not super().parse_request():
            return False
        name = host_name(self.headers.get("Host"))
        if name is not None and self.server.answers_to(name, self.connection.getsockname()[0]):
            return True
        self._send_bytes(HTTPStatus.FORBIDDEN, b"403 forbidden: the Host header does not name this preview server\n",
                         PLAIN, body=self.command != "HEAD", extra={"Connection": "close"})
        return False

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def _refuse_method(self) -> None:
        self._send_bytes(HTTPStatus.METHOD_NOT_ALLOWED, b"405 method not allowed: only GET and HEAD\n",
                         PLAIN, body=True, extra={"Allow": "GET, HEAD", "Connection": "close"})  # its body is not read

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse_method  # noqa: N815

    def _answer(self, body: bool) -> None:
        dev = self.server.dev
        try:
            parts, slash = request_parts(self.path)
        except Refused as refused:
            self._send_bytes(refused.status, f"{refused.status.value} {refused.status.phrase}\n".encode(),
                             PLAIN, body)
            return
        route = "/" + "/".join(parts)
        if route == SCRIPT_PATH:
            self._send_bytes(HTTPStatus.OK, LIVERELOAD_JS, TYPES[".js"], body)
            return
        if route == EVENTS_PATH:
            self._events(body)
            return
        state = dev.settled(BUILD_WAIT_SECONDS, route + ("/" if slash and parts else ""))
        found = resolve(dev.folder, parts)
        if found is not None and found.is_dir():
            if not slash and parts:
                query = self.path[len(self.path.split("?", 1)[0]):]
                location = quote(route + "/") + quote(query, safe="!$%&'()*+,/:;=?@~", encoding="latin-1")
                self._send_bytes(HTTPStatus.MOVED_PERMANENTLY, b"", "text/plain", body, extra={"Location": location})
                return
            found = resolve(dev.folder, [*parts, "index.html"])
        if state.error_page is not None and (found is None or found.suffix in (".html", ".htm")):
            self._send_html(HTTPStatus.INTERNAL_SERVER_ERROR, state.error_page, state.token, body)
            return
        if found is None:
            missing = resolve(dev.folder, ["404.html"])
            if missing is not None and missing.is_file():
                self._send_html(HTTPStatus.NOT_FOUND, missing.read_bytes(), state.token, body)
            else:
                self._send_bytes(HTTPStatus.NOT_FOUND, b"404 not found\n", PLAIN, body)
            return
        self._send_file(found, state.token, body)

    def _send_file(self, path: Path, token: str, body: bool) -> None:
        ctype = content_type(path)
        try:
            handle = open(path, "rb")
        except OSError:
            self._send_bytes(HTTPStatus.NOT_FOUND, b"404 not found\n", PLAIN, body)
            return
        with handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                self._send_bytes(HTTPStatus.NOT_FOUND, b"404 not found\n", PLAIN, body)
                return
            if ctype.startswith("text/html"):
                self._send_html(HTTPStatus.OK, handle.read(), token, body)
                return
            self.send_response(HTTPStatus.OK)
            self._headers(ctype, info.st_size)
            if body:
                shutil.copyfileobj(handle, self.wfile)

    def _send_html(self, status: HTTPStatus, data: bytes, token: str, body: bool) -> None:
        """HTML carries the build it shows, so its live-reload script can tell when it is stale."""
        data = data.replace(BUILD_PLACEHOLDER.encode(), token.encode())
        self._send_bytes(status, data, TYPES[".html"], body)

    def _send_bytes(self, status: HTTPStatus, data: bytes, ctype: str, body: bool,
                    extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self._headers(ctype, len(data))
        if body:
            self.wfile.write(data)

    def _headers(self, ctype: str, length: int) -> None:
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()

    def _events(self, body: bool) -> None:
        """A Server-Sent Events stream: one `build` event per finished build, until the server stops."""
        dev = self.server.dev
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        if not body:
            return
        query = self.path.split("?", 1)[1] if "?" in self.path else ""
        seen = page = ""
        for pair in query.split("&"):
            if pair.startswith("build="):
                seen = unquote(pair[6:])
            elif pair.startswith("page="):
                page = unquote(pair[5:])
        inbox = dev.subscribe(page)
        try:
            self.wfile.write(b"retry: 1000\n\n")
            missed = dev.catch_up(seen)
            if missed is not None:
                inbox.put(missed)
            self.wfile.flush()
            while True:
                try:
                    event = inbox.get(timeout=KEEPALIVE_SECONDS)
                except queue.Empty:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    continue
                if event is None:
                    return
                self.wfile.write(event.message().encode("utf-8"))
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout, OSError):
            return
        finally:
            dev.unsubscribe(inbox)


class DevHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that answers for a dev server (`Served`); binds IPv6 hosts too.

    At most MAX_HANDLERS connections have a thread; one more is answered 503 and closed.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = MAX_HANDLERS

    def __init__(self, address: tuple[str, int], dev: Served) -> None:
        self.dev = dev
        host = address[0].strip("[]")
        # The names a Host header may give; on every address, the machine's own name stands for it.
        self.names = frozenset((*LOOPBACK_NAMES, (socket.gethostname() if host in WILDCARDS else host).lower()))
        self.slots = threading.BoundedSemaphore(MAX_HANDLERS)
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, address[1]), Handler)

    def answers_to(self, name: str, local: str) -> bool:
        """True if a Host of `name` is this server: a name it was given, or the address the request reached."""
        return name in self.names or ((ip := _address(name)) is not None and ip == _address(local))

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if not self.slots.acquire(blocking=False):
            self._refuse_busy(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def _refuse_busy(self, request: socket.socket) -> None:
        """A short 503 without waiting for the request (the accept loop must not block)."""
        body = b"503 service unavailable: too many open connections; try again\n"
        try:
            request.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                request.recv(65536)  # what has come: closing then is less likely to reset the 503
            request.send(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: " + PLAIN.encode()
                         + b"\r\nContent-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" % len(body) + body)
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        """A browser that goes away mid-answer is normal; anything else is one line, not a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, socket.timeout)):
            return
        self.dev.log(f"error: while answering {client_address}: {type(error).__name__}: {error}", True)
