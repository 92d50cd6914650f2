"""The dev server over HTTP: safe serving, SSE build events, error pages, waiting for builds."""

from __future__ import annotations

import http.client
import json
import os
import queue
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from bitopia_site.build import BuildOptions
from bitopia_site.cli import main
from bitopia_site.errors import SiteError
from bitopia_site.incremental import SERVE_OPTIONS, live_builder
from bitopia_site.model import OutputPage
from bitopia_site.serve.errorpage import excerpt, render_error_page
from bitopia_site.serve.handler import BUILD_PLACEHOLDER, SCRIPT_TAG, Refused, request_parts
from bitopia_site.serve.server import DevServer, inject_livereload
from conftest import REPO, copy_site, wait_for

POST = "content/posts/2014-08-06-the-live-deployment-stories-from-bitopia.md"
POST_URL = "/2014/08/06/the-live-deployment-stories-from-bitopia/"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One server on a copy of the bundled site, for the tests that only read."""
    site = tmp_path_factory.mktemp("shared") / "bundled"
    site.mkdir()
    shutil.copy(REPO / "site.yaml", site / "site.yaml")
    copy_site(REPO / "content", site / "content")
    copy_site(REPO / "themes", site / "themes")
    server = DevServer(site, live_builder(site), port=0).start()
    yield server
    server.close()


@pytest.fixture
def serve(bundled_site: Path) -> Iterator:
    servers: list[DevServer] = []

    def start(site: Path = bundled_site, **kwargs) -> DevServer:
        server = DevServer(site, live_builder(site, kwargs.pop("options", SERVE_OPTIONS)), port=0, **kwargs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.close()


def raw_get(server: DevServer, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """Send the request line exactly as written (no client-side normalising of `..`)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nConnection: close\r\n\r\n"
                     .encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def get(server: DevServer, path: str) -> tuple[int, str]:
    status, _, body = raw_get(server, path)
    return status, body.decode("utf-8")


class EventClient:
    """Reads the server's SSE stream on a thread; events land in a queue."""

    def __init__(self, server: DevServer, build: str) -> None:
        self.events: queue.Queue[dict] = queue.Queue()
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.conn.request("GET", f"/__bitopia/events?build={build}")
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type").startswith("text/event-stream")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        name = ""
        try:
            for raw in self.response.fp:
                line = raw.decode("utf-8").rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name == "build":
                    self.events.put(json.loads(line[6:]))
        except (OSError, ValueError):
            pass

    def next(self, timeout: float = 10.0) -> dict:
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        self.conn.close()


def edit(site: Path, rel: str, old: str, new: str) -> None:
    path = site / rel
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


# -- pure parts ------------------------------------------------------------------------------

@pytest.mark.parametrize(("target", "status"), [
    ("/../etc/passwd", 404), ("/a/../../x", 404), ("/%2e%2e/etc/passwd", 404), ("/%2E%2E/%2e%2e/x", 404),
    ("/./index.html", 404), ("/.bitopia-output", 404), ("/x%00.html", 400), ("/a%5c..%5cb", 400),
    ("/%ff%fe", 400), ("etc/passwd", 400), ("//etc/passwd", 400), ("http://evil/x", 400), ("/a\tb", 400),
])
def test_request_parts_refuses(target: str, status: int) -> None:
    with pytest.raises(Refused) as refused:
        request_parts(target)
    assert refused.value.status == status


def test_request_parts_accepts() -> None:
    assert request_parts("/") == ([], True)
    assert request_parts("/2014/08/06/x/?a=1#f") == (["2014", "08", "06", "x"], True)
    assert request_parts("/css/bitopia.css") == (["css", "bitopia.css"], False)
    assert request_parts("/tags/caf%C3%A9/") == (["tags", "café"], True)
    assert request_parts("/a//b") == (["a", "b"], False)


def test_inject_livereload() -> None:
    page = OutputPage("a/index.html", "/a/", ("post.html",), {})
    text = "<html><body><p>x</p><script>'</body>'</script></BODY>\n</html>"
    assert inject_livereload(page, text) == ("<html><body><p>x</p><script>'</body>'</script>" + SCRIPT_TAG
                                             + "\n</BODY>\n</html>")
    assert inject_livereload(page, "<p>no body end</p>") == "<p>no body end</p>" + SCRIPT_TAG + "\n"
    feed = OutputPage("index.xml", "/index.xml", ("feed.xml",), {})
    assert inject_livereload(feed, "<rss></rss>") == "<rss></rss>"


def test_error_page_shows_file_line_message_and_source(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "a.md").write_text("".join(f"line {n}\n" for n in range(1, 21)))
    err = SiteError("content/a.md", "invalid <YAML>", "quote it", 10)
    shown = excerpt(err, tmp_path)
    assert shown is not None and [n for n, _ in shown.lines] == [7, 8, 9, 10, 11, 12, 13] and shown.line == 10
    page = render_error_page([err, SiteError(None, "no file here")], tmp_path, SCRIPT_TAG).decode()
    assert "content/a.md:10" in page and "invalid &lt;YAML&gt;" in page and "quote it" in page
    assert '<span class="bad"><span class="n">10</span> line 10</span>' in page
    assert "2 errors" in page and "no file here" in page and SCRIPT_TAG in page
    assert excerpt(SiteError("content/missing.md", "x", line=3), tmp_path) is None
    assert excerpt(SiteError("content/a.md", "x", line=99), tmp_path) is None


# -- the running server ----------------------------------------------------------------------

def test_serves_pages_with_the_script_and_their_build(shared: DevServer) -> None:
    server = shared
    assert server.out == (server.root / ".bitopia-cache" / "serve") and not (server.root / "output").exists()
    status, headers, body = raw_get(server, POST_URL)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    text = body.decode()
    assert "The Live Deployment" in text
    assert f'data-build="{server.state.token}"' in text and "__BITOPIA_BUILD__" not in text
    assert text.index("/__bitopia/livereload.js") < text.rindex("</body>")
    assert f'href="{server.url}' in text or 'href="/' in text  # links point at the preview, not production
    assert "https://bitopia.example.org" not in text
    status, headers, body = raw_get(server, "/css/bitopia.css")
    assert status == 200 and headers["content-type"].startswith("text/css") and b"{" in body
    status, headers, body = raw_get(server, "/__bitopia/livereload.js")
    assert status == 200 and b"EventSource" in body
    status, headers, body = raw_get(server, POST_URL, "HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 1000
    status, headers, _ = raw_get(server, POST_URL.rstrip("/") + "?x=1")
    assert status == 301 and headers["location"] == POST_URL + "?x=1"
    status, text = get(server, "/no/such/page/")
    not_found = (server.out / "404.html").read_text().replace(BUILD_PLACEHOLDER, server.state.token)
    assert status == 404 and text == not_found and "/__bitopia/livereload.js" in text


def test_only_get_and_head(shared: DevServer) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
        status, headers, _ = raw_get(shared, "/", method)
        assert status == 405 and headers["allow"] == "GET, HEAD", method
    assert raw_get(shared, "/", "BREW")[0] == 501


TRAVERSALS = [
    "/../../../../etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/css/../../../../etc/passwd", "/..\\..\\etc\\passwd",
    "/%5c..%5c..%5cetc%5cpasswd", "/index.html%00.css", "/%00", "/secret/../../site.yaml", "/../site.yaml",
    "/%252e%252e/site.yaml", "/escape/passwd", "/escape/", "/escape-file", "/.bitopia-output",
    "/..", "/.", "//etc/passwd", "http://127.0.0.1/../site.yaml",
]


def test_traversal_is_refused(shared: DevServer, tmp_path: Path) -> None:
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "passwd").write_text("SECRET-OUTSIDE\n")
    server = shared
    # links in the served folder that lead out of it (as a hostile or careless site might make)
    os.symlink(secret, server.out / "escape")
    os.symlink(secret / "passwd", server.out / "escape-file")
    try:
        for target in TRAVERSALS:
            status, _, body = raw_get(server, target)
            assert status in (400, 404), target
            assert b"SECRET-OUTSIDE" not in body and b"root:" not in body and b"base_url" not in body, target
    finally:
        (server.out / "escape").unlink()
        (server.out / "escape-file").unlink()


def test_an_edit_sends_one_build_event_and_serves_the_new_text(serve, bundled_site: Path) -> None:
    server = serve()
    first = server.state.token
    events = EventClient(server, first)
    try:
        assert wait_for(lambda: server.hub.clients == 1, 5)
        edit(bundled_site, POST, "It was a dark rainy night.", "It was a bright morning in Bitopia.")
        event = events.next()
        assert event["ok"] and event["after"] == first and event["build"] == server.state.token != first
        assert event["css"] == [] and event["navigate"] is None
        status, text = get(server, POST_URL)
        assert status == 200 and "It was a bright morning in Bitopia." in text
        assert "It was a bright morning in Bitopia." in get(server, "/")[1]  # the summary on the home page
        assert server.builder.updates == 1, "a body edit is applied in memory, without a whole build"
        assert events.events.empty()
    finally:
        events.close()


def test_a_stale_page_is_told_at_once(shared: DevServer) -> None:
    server = shared
    events = EventClient(server, "an-older-build")
    try:
        event = events.next(5)
        assert event["build"] == server.state.token and event["css"] == []
    finally:
        events.close()


def test_a_stylesheet_change_is_swapped_not_reloaded(serve, bundled_site: Path) -> None:
    server = serve()
    events = EventClient(server, server.state.token)
    try:
        assert wait_for(lambda: server.hub.clients == 1, 5)
        css = bundled_site / "themes" / "bitopia" / "static" / "css" / "bitopia.css"
        css.write_text(css.read_text() + "\nbody { outline: 1px solid red; }\n")
        event = events.next()
        assert event["css"] == ["/css/bitopia.css"] and event["ok"]
        assert get(server, "/css/bitopia.css")[1].endswith("outline: 1px solid red; }\n")
        assert server.builder.updates == 1, "an edited stylesheet is copied, without a whole build"
    finally:
        events.close()


def test_navigate_sends_browsers_to_the_edited_post(serve, bundled_site: Path) -> None:
    server = serve(navigate=True)
    events = EventClient(server, server.state.token)
    try:
        assert wait_for(lambda: server.hub.clients == 1, 5)
        edit(bundled_site, POST, "stray dogs", "stray cats")
        assert events.next()["navigate"] == POST_URL
    finally:
        events.close()


def test_a_failed_build_shows_an_error_page_everywhere_and_recovers(serve, bundled_site: Path) -> None:
    server = serve()
    events = EventClient(server, server.state.token)
    try:
        assert wait_for(lambda: server.hub.clients == 1, 5)
        edit(bundled_site, POST, "title: The Live Deployment (Stories from Bitopia)",
             "title: The Live Deployment: (Stories from Bitopia)")
        event = events.next()
        assert not event["ok"]
        for path in (POST_URL, "/", "/no/such/page/"):
            status, text = get(server, path)
            assert status == 500, path
            assert f"{POST}:5" in text and "invalid YAML" in text
            assert '<span class="bad"><span class="n">5</span> title: The Live Deployment: (Stories' in text
            assert "/__bitopia/livereload.js" in text and f'data-build="{server.state.token}"' in text
        assert get(server, "/css/bitopia.css")[0] == 200  # assets of the last good build stay
        edit(bundled_site, POST, "title: The Live Deployment: (", "title: The Live Deployment (")
        assert events.next()["ok"]
        status, text = get(server, POST_URL)
        assert status == 200 and "The Live Deployment" in text and "did not build" not in text
    finally:
        events.close()


def test_a_template_error_names_the_template_and_line(serve, bundled_site: Path) -> None:
    templates = bundled_site / "templates"
    templates.mkdir()
    (templates / "post.html").write_text("<!DOCTYPE html>\n<html><body>\n<h1>{{ page.title }}</h1>\n</body></html>\n")
    server = serve()
    assert "<h1>The Live Deployment (Stories from Bitopia)</h1>" in get(server, POST_URL)[1]
    (templates / "post.html").write_text("<!DOCTYPE html>\n<html><body>\n<h1>{{ page.title }</h1>\n</body></html>\n")
    assert wait_for(lambda: server.builds == 2)
    status, text = get(server, POST_URL)
    assert status == 500
    assert "templates/post.html:3" in text and "template syntax error" in text
    assert '<span class="bad"><span class="n">3</span> &lt;h1&gt;{{ page.title }&lt;/h1&gt;</span>' in text


def test_deleting_a_post_answers_404_and_drops_it_from_lists(serve, bundled_site: Path) -> None:
    server = serve()
    assert "The Live Deployment" in get(server, "/")[1]
    (bundled_site / POST).unlink()
    assert wait_for(lambda: server.builds == 2)
    status, text = get(server, POST_URL)
    assert status == 404 and text == get(server, "/404.html")[1]
    assert "The Live Deployment" not in get(server, "/")[1]
    assert not (server.out / POST_URL.strip("/") / "index.html").exists()


def test_a_rename_moves_the_page(serve, bundled_site: Path) -> None:
    server = serve()
    post = bundled_site / POST
    text = post.read_text().replace("url: /2014/08/06/the-live-deployment-stories-from-bitopia/\n", "")
    post.write_text(text)
    assert wait_for(lambda: server.builds == 2)
    post.rename(post.with_name("2014-08-06-renamed.md"))
    assert wait_for(lambda: server.builds == 3)
    assert get(server, "/2014/08/06/renamed/")[0] == 200
    assert get(server, POST_URL)[0] == 404


def test_drafts_and_future_posts_are_shown_unless_asked(serve, bundled_site: Path) -> None:
    (bundled_site / "content" / "posts" / "draft.md").write_text(
        "---\ntitle: Half Written\ndate: 2014-09-01\ndraft: true\n---\nSoon.\n")
    (bundled_site / "content" / "posts" / "later.md").write_text(
        "---\ntitle: From The Future\ndate: 2999-01-01\n---\nLater.\n")
    shown = get(serve(), "/")[1]
    assert "Half Written" in shown and "From The Future" in shown
    hidden = get(serve(options=BuildOptions()), "/")[1]
    assert "Half Written" not in hidden and "From The Future" not in hidden


def test_a_request_during_a_build_waits_for_it(serve, bundled_site: Path) -> None:
    server = serve()
    server.gate.hold()  # as when a change has just arrived
    answered: list[tuple[float, int]] = []

    def request() -> None:
        status = get(server, POST_URL)[0]
        answered.append((time.monotonic(), status))

    thread = threading.Thread(target=request)
    thread.start()
    time.sleep(0.3)
    assert answered == []
    released = time.monotonic()
    server._rebuild(None)
    thread.join(5)
    assert answered and answered[0][1] == 200 and answered[0][0] >= released


def test_server_stops_cleanly_with_open_event_streams(bundled_site: Path) -> None:
    server = DevServer(bundled_site, live_builder(bundled_site), port=0).start()
    events = EventClient(server, server.state.token)
    assert wait_for(lambda: server.hub.clients == 1, 5)
    started = time.monotonic()
    server.close()
    events.thread.join(5)
    assert not events.thread.is_alive() and time.monotonic() - started < 5
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_two_servers_on_one_site_use_separate_folders(serve) -> None:
    first, second = serve(), serve()
    assert first.out != second.out and get(second, "/")[0] == 200


def test_cli_serve_reports_a_busy_port(bundled_site: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "-s", str(bundled_site), "-p", str(port)])
    assert result.exit_code == 1
    assert f"127.0.0.1:{port}: cannot listen there" in result.output and "Traceback" not in result.output


def test_an_edit_that_breaks_an_image_is_warned_of_in_the_terminal(serve, bundled_site: Path) -> None:
    """The warnings of an edit applied in memory are the edited post's own: each is printed, with its line."""
    logged: list[tuple[str, bool]] = []
    server = serve(log=lambda text, error=False: logged.append((text, error)))
    builds = server.builds
    edit(bundled_site, POST, "It was a dark rainy night.", "It was a dark rainy night.\n\n![x](/img/nothing-here.png)")
    assert wait_for(lambda: server.builds > builds and not server.gate.busy, 30)
    assert server.builder.updates == 1
    warned = [text for text, _ in logged if text.startswith("warning: ")]
    assert len(warned) == 1 and "shows the image /img/nothing-here.png, which is not on the site" in warned[0]
    assert warned[0].startswith(f"warning: {POST}:")


def test_memory_is_handed_back_a_moment_after_a_build(serve, bundled_site: Path, monkeypatch) -> None:
    """A moment after a build, when no other has begun, the server collects and trims its heap."""
    import bitopia_site.serve.server as server_module
    tidied: list[int] = []
    monkeypatch.setattr(server_module, "TIDY_AFTER", 0.05)
    monkeypatch.setattr(server_module, "_trim_heap", lambda: tidied.append(1))
    server = serve()
    assert wait_for(lambda: tidied, 5)
    assert server.builds == 1 and not server.gate.busy
