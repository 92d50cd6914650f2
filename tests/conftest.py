"""Shared fixtures: sample sites, the real blog from ../shared, a static server and a browser."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
REAL_BLOG = SHARED / "corpus" / "real-blog"
SITES = Path(__file__).resolve().parent / "sites"
FIXED_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]


def pytest_configure(config: pytest.Config) -> None:
    """Cache files are signed with a key kept outside the site (bitopia_site/cache.py): the tests,
    and every process they start, keep theirs in a folder of their own, never in the user's home."""
    folder = tempfile.mkdtemp(prefix="bitopia-test-key-")
    os.environ["BITOPIA_KEY_DIR"] = folder
    config.add_cleanup(functools.partial(shutil.rmtree, folder, ignore_errors=True))


def wait_for(condition, timeout: float = 10.0) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def copy_site(src: Path, dest: Path) -> Path:
    """A writable copy of a site folder (the shared corpus is read-only)."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("output", ".bitopia-cache"))
    for path in [dest, *dest.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
    return dest


@pytest.fixture
def real_blog(tmp_path: Path) -> Path:
    """A copy of the real Hugo blog; skipped when ../shared is absent."""
    if not REAL_BLOG.is_dir():
        pytest.skip("../shared/corpus/real-blog is absent")
    return copy_site(REAL_BLOG, tmp_path / "real-blog")


def copy_bundled(folder: Path) -> Path:
    """A copy of this repository's own site (site.yaml, content/, themes/) in `folder`/bundled."""
    dest = folder / "bundled"
    dest.mkdir()
    shutil.copy(REPO / "site.yaml", dest / "site.yaml")
    copy_site(REPO / "content", dest / "content")
    copy_site(REPO / "themes", dest / "themes")
    return dest


@pytest.fixture
def bundled_site(tmp_path: Path) -> Path:
    """A copy of this repository's own site: site.yaml, content/, themes/."""
    return copy_bundled(tmp_path)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class StaticServer:
    """Serves a folder on 127.0.0.1 from a thread, for browser tests of built output."""

    def __init__(self, folder: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def static_server() -> Iterator[type[StaticServer]]:
    servers: list[StaticServer] = []

    def start(folder: Path) -> StaticServer:
        server = StaticServer(folder)
        servers.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, driven by Playwright; skipped where it is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
