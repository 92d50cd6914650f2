"""The dev server against hostile pages and clients: DNS rebinding, idle and half-sent
connections, floods of connections, non-ASCII redirects, and listening beyond loopback.

Every request goes to 127.0.0.1 or ::1 over real sockets."""

from __future__ import annotations

import http.client
import os
import queue
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from bitopia_site.incremental import live_builder
from bitopia_site.serve import handler
from bitopia_site.serve.handler import IDLE_SECONDS, MAX_HANDLERS, Handler, host_name
from bitopia_site.serve.server import DevServer, listen_urls
from conftest import REPO, copy_bundled, wait_for

POST = "content/posts/2014-08-06-the-live-deployment-stories-from-bitopia.md"
POST_URL = "/2014/08/06/the-live-deployment-stories-from-bitopia/"
NIHON = "/tags/%E6%97%A5%E6%9C%AC"  # /tags/日本


def site_copy(folder: Path) -> Path:
    """The bundled site, with a post tagged 日本."""
    site = copy_bundled(folder)
    (site / "content" / "posts" / "2014-12-01-nihon.md").write_text(
        "---\ntitle: Nihon\ndate: 2014-12-01\ntags:\n- 日本\n---\nA trip.\n", encoding="utf-8")
    return site


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One server for the tests that do not flood it."""
    site = site_copy(tmp_path_factory.mktemp("security"))
    dev = DevServer(site, live_builder(site), port=0).start()
    yield dev
    dev.close()


def parse(data: bytes) -> tuple[int, dict[str, str], bytes]:
    assert data, "the server closed the connection without an answer"
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("ascii").split("\r\n")  # a header that is not ASCII fails here
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def request(port: int, target: str, host: str | None, method: str = "GET", address: str = "127.0.0.1",
            timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """One request as written (Host as given, or none), read until the server closes."""
    head = (f"{method} {target} HTTP/1.1\r\n" + (f"Host: {host}\r\n" if host is not None else "")
            + "Connection: close\r\n\r\n")
    with socket.create_connection((address, port), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return parse(data)


# -- DNS rebinding: only Host headers that name this server --------------------------------------

@pytest.mark.parametrize(("header", "name"), [
    ("localhost", "localhost"), ("LocalHost:8000", "localhost"), ("127.0.0.1:1", "127.0.0.1"),
    ("[::1]", "::1"), ("[::1]:8000", "::1"), (" example.org ", "example.org"),
    (None, None), ("", None), ("::1", None), ("localhost:", None), ("localhost:port", None),
    ("a@localhost", None), ("localhost/x", None), ("[::1", None), ("local host", None),
])
def test_host_name(header: str | None, name: str | None) -> None:
    assert host_name(header) == name


FOREIGN = ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}", "localhost.evil.example",
           "localhost:{port}@evil.example", "", None]
TARGETS = ["/", POST_URL, "/__bitopia/events?build=x", "/__bitopia/livereload.js", "/no/such/page/", "/tags"]


@pytest.mark.parametrize("host", FOREIGN)
def test_a_foreign_host_gets_403_and_no_content(server: DevServer, host: str | None) -> None:
    for target in TARGETS:
        for method in ("GET", "HEAD", "POST"):
            shown = None if host is None else host.format(port=server.port)
            status, headers, body = request(server.port, target, shown, method)
            assert status == 403, (host, target, method)
            assert headers["connection"] == "close" and headers["content-type"].startswith("text/plain")
            assert "location" not in headers
            assert len(body) < 100 and b"<" not in body and b"Bitopia" not in body, body


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:{port}", "localhost", "LOCALHOST:{port}", "[::1]:{port}"])
def test_the_server_own_names_are_answered(server: DevServer, host: str) -> None:
    status, _, body = request(server.port, POST_URL, host.format(port=server.port))
    assert status == 200 and b"The Live Deployment" in body


def test_a_server_on_ipv6_loopback_answers_its_names_only(tmp_path: Path) -> None:
    try:
        site = site_copy(tmp_path)
        dev = DevServer(site, live_builder(site), host="::1", port=0)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with dev:
        assert dev.urls == [f"http://[::1]:{dev.port}/"] and not dev.exposed
        assert request(dev.port, "/", f"[::1]:{dev.port}", address="::1")[0] == 200
        assert request(dev.port, "/", "localhost", address="::1")[0] == 200
        assert request(dev.port, "/", "evil.example", address="::1")[0] == 403
        assert request(dev.port, "/", f"[::2]:{dev.port}", address="::1")[0] == 403


# -- idle and half-sent connections, and a cap on threads ----------------------------------------

def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True if the server closes `sock` (without answering) within `seconds`."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_idle_and_half_sent_connections_are_closed(server: DevServer) -> None:
    sends = [b"", b"GET / HTTP/1.1\r\n", f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nX-Slow: ".encode(),
             b"GET /__bitopia/ev"]
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in sends]
    try:
        started = time.monotonic()
        for sock, data in zip(socks, sends):
            sock.sendall(data)
        for sock, data in zip(socks, sends):
            left = started + IDLE_SECONDS + 3 - time.monotonic()
            assert closed_within(sock, max(left, 0.1)), f"still open after sending {data!r}"
        assert time.monotonic() - started >= IDLE_SECONDS - 0.5  # not at once: a slow client has its seconds
    finally:
        for sock in socks:
            sock.close()


def test_an_idle_keep_alive_connection_is_closed(server: DevServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", "/css/bitopia.css")
        response = conn.getresponse()
        assert response.status == 200 and response.getheader("Connection") != "close"
        response.read()
        assert conn.sock is not None and closed_within(conn.sock, IDLE_SECONDS + 3)
    finally:
        conn.close()


def test_a_flood_of_idle_connections_is_capped_and_the_server_still_answers(tmp_path: Path) -> None:
    site = site_copy(tmp_path)
    dev = DevServer(site, live_builder(site), port=0).start()
    socks: list[socket.socket] = []
    try:
        before = threading.active_count()
        flood = 2 * MAX_HANDLERS + 20
        for _ in range(flood):
            socks.append(socket.create_connection(("127.0.0.1", dev.port), timeout=10))

        poll = select.poll()
        for sock in socks:
            poll.register(sock, select.POLLIN)
        by_fd = {sock.fileno(): sock for sock in socks}

        def refused() -> int:
            ready = [by_fd[fd] for fd, _ in poll.poll(0)]
            return sum(1 for sock in ready if sock.recv(1024, socket.MSG_PEEK).startswith(b"HTTP/1.1 503"))

        assert wait_for(lambda: refused() >= flood - MAX_HANDLERS or threading.active_count() - before > MAX_HANDLERS,
                        5)
        assert threading.active_count() - before <= MAX_HANDLERS
        assert refused() >= flood - MAX_HANDLERS
        status, headers, body = parse(socks[-1].recv(1024))
        assert status == 503 and headers["retry-after"] == "1" and body.startswith(b"503 ")
        # the idle ones are closed after IDLE_SECONDS; then a page is served again
        deadline = time.monotonic() + IDLE_SECONDS + 5
        status = 0
        while time.monotonic() < deadline:
            try:
                status = request(dev.port, POST_URL, "127.0.0.1")[0]
            except ConnectionError:
                status = 0
            if status == 200:
                break
            time.sleep(0.2)
        assert status == 200
        assert wait_for(lambda: threading.active_count() <= before + 1, 5)
    finally:
        for sock in socks:
            sock.close()
        dev.close()


def test_the_event_stream_outlives_the_idle_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page left open through a long quiet spell still reloads: the stream is kept alive."""
    monkeypatch.setattr(Handler, "timeout", 0.5)
    monkeypatch.setattr(handler, "KEEPALIVE_SECONDS", 0.2)
    site = site_copy(tmp_path)
    dev = DevServer(site, live_builder(site), port=0).start()
    lines: queue.Queue[str] = queue.Queue()
    conn = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=10)
    try:
        conn.request("GET", f"/__bitopia/events?build={dev.state.token}")
        response = conn.getresponse()
        assert response.status == 200
        reader = threading.Thread(target=lambda: [lines.put(raw.decode()) for raw in response.fp], daemon=True)
        reader.start()
        idle = socket.create_connection(("127.0.0.1", dev.port), timeout=5)
        assert closed_within(idle, 3)  # the short timeout is in force
        idle.close()
        time.sleep(3)  # six idle timeouts of quiet
        post = site / POST
        post.write_text(post.read_text().replace("stray dogs", "stray cats"))
        deadline = time.monotonic() + 10
        seen: list[str] = []
        while time.monotonic() < deadline and "event: build\n" not in seen:
            try:
                seen.append(lines.get(timeout=0.5))
            except queue.Empty:
                pass
        assert "event: build\n" in seen and seen.count(": keep-alive\n") >= 5
    finally:
        conn.close()
        dev.close()


# -- redirects --------------------------------------------------------------------------------

def test_a_redirect_location_is_ascii_and_percent_encoded(server: DevServer) -> None:
    status, headers, _ = request(server.port, NIHON + "?q=%C3%A9&x=\xe9&y=a/b", "127.0.0.1")
    assert status == 301
    assert headers["location"] == NIHON + "/?q=%C3%A9&x=%E9&y=a/b"
    status, _, body = request(server.port, headers["location"], "127.0.0.1")
    assert status == 200 and "日本" in body.decode()
    assert request(server.port, NIHON, "127.0.0.1", "HEAD")[1]["location"] == NIHON + "/"


# -- listening beyond loopback ----------------------------------------------------------------

def test_listen_urls() -> None:
    assert listen_urls("127.0.0.1", 80) == ["http://127.0.0.1:80/"]
    assert listen_urls("::1", 80) == listen_urls("[::1]", 80) == ["http://[::1]:80/"]
    assert listen_urls("localhost", 80) == ["http://localhost:80/"]
    name = socket.gethostname()
    assert listen_urls("0.0.0.0", 80) == list(dict.fromkeys(["http://127.0.0.1:80/", f"http://{name}:80/"]))
    assert listen_urls("::", 80)[0] == "http://[::1]:80/"


def test_serve_on_every_address_prints_its_urls_and_warns(tmp_path: Path) -> None:
    site = site_copy(tmp_path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "bitopia_site", "serve", "-s", str(site), "-p", "0",
                                "--host", "0.0.0.0"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [output.put(line) for line in process.stdout], daemon=True).start()
    try:
        printed = ""
        deadline = time.monotonic() + 60
        while "Serving" not in printed and time.monotonic() < deadline and process.poll() is None:
            try:
                printed += output.get(timeout=0.5)
            except queue.Empty:
                pass
        assert "warning: listening on 0.0.0.0, beyond this machine" in printed, printed
        assert "reads the preview (drafts and future posts shown)" in printed and "--host 127.0.0.1" in printed
        found = re.search(r"Serving .* at http://127\.0\.0\.1:(\d+)/ and http://(\S+):\1/ ", printed)
        assert found, printed
        port, name = int(found.group(1)), found.group(2)
        assert name == socket.gethostname() and "0.0.0.0:" not in printed.split("Serving", 1)[1]
        assert request(port, "/", f"127.0.0.1:{port}")[0] == 200
        assert request(port, "/", f"{name}:{port}")[0] == 200
        assert request(port, "/", "evil.example")[0] == 403
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
