"""Publishing under a real nginx: readers see one whole release, never a mix, even when publish is killed.

nginx serves the target symlink with `disable_symlinks off` and `open_file_cache off`, so every
request resolves the symlink afresh, and reports the release folder it read from in a header
(`$realpath_root`). Reader threads fetch a page, one of its stylesheets, and the page again:
when both page fetches carry the same build id no swap happened in between (build ids are never
reused, and the test publishes forward only), so the stylesheet must come from that same release.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from bitopia_site.publish import FolderTarget, build_id_of
from bitopia_site.publish.production import build_checked
from tests.conftest import FIXED_NOW, REPO, copy_site

NGINX = "/usr/sbin/nginx"
VERSION = re.compile(rb"site version ([AB])")

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason=f"nginx is not installed at {NGINX}")


class Nginx:
    """nginx on 127.0.0.1:<free port>, with its config, pid, logs and temp files in a tmp folder."""

    def __init__(self, root: Path, workdir: Path) -> None:
        workdir.mkdir()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        user = "user root;\n" if os.geteuid() == 0 else ""
        temps = "\n".join(f"  {kind}_temp_path {workdir}/{kind};" for kind in
                          ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (workdir / "nginx.conf").write_text(f"""{user}daemon off;
worker_processes 2;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
{temps}
  types {{ text/html html; text/css css; application/xml xml; text/plain txt; image/jpeg jpg; }}
  default_type application/octet-stream;
  open_file_cache off;
  disable_symlinks off;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{self.port};
    root {root};
    add_header X-Release $realpath_root always;
  }}
}}
""")
        self.workdir = workdir
        self.process = subprocess.Popen([NGINX, "-e", str(workdir / "error.log"), "-p", str(workdir), "-c",
                                         str(workdir / "nginx.conf")], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {self.process.stderr.read().decode()}"
                                       f"{(workdir / 'error.log').read_text()}")
                time.sleep(0.05)

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def nginx_for(tmp_path: Path) -> Iterator:
    started: list[Nginx] = []

    def start(root: Path) -> Nginx:
        server = Nginx(root, tmp_path / f"nginx{len(started)}")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def versioned_site(bundled_site: Path, dest: Path, version: str) -> Path:
    """A copy of the site whose pages and stylesheets all say which version they are."""
    site = copy_site(bundled_site, dest)
    config = site / "site.yaml"
    config.write_text(config.read_text().replace("title: Stories from Bitopia",
                                                 f"title: Stories from Bitopia, site version {version}"))
    for css in site.glob("themes/*/static/**/*.css"):
        css.write_text(css.read_text() + f"\n/* site version {version} */\n")
    return site


def seq(release: str) -> int:
    """The sequence number a release name starts with (releases go live in this order)."""
    head = release.split("-", 1)[0]
    return int(head) if head.isdigit() else -1


def release_of(headers: dict[str, str]) -> str:
    return headers.get("X-Release", "").rstrip("/").rsplit("/", 1)[-1]


@dataclass
class Reader:
    """Threads that fetch page, stylesheet, page again, and verify each response against the release."""

    port: int
    releases: Path
    pages: list[str]
    threads: int = 6
    by_release: bool = True  # False: a plain folder; compare page and stylesheet by version only
    requests: int = 0
    samples: int = 0
    straddled: int = 0
    errors: list[str] = field(default_factory=list)
    mixed: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for number in range(self.threads):
            worker = threading.Thread(target=self._run, args=(random.Random(number),), daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def _run(self, rng: random.Random) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self._stop.is_set():
            try:
                self._sample(conn, rng)
            except (OSError, http.client.HTTPException) as exc:
                with self._lock:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.close()

    def _fetch(self, conn: http.client.HTTPConnection, path: str) -> tuple[str, bytes] | None:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        release = release_of(dict(response.getheaders()))
        with self._lock:
            self.requests += 1
        if response.status != 200:
            self._error(f"GET {path}: HTTP {response.status}")
            return None
        if not self.by_release:
            return release, body
        local = path.split("?")[0].lstrip("/")
        file = self.releases / release / (local + "index.html" if local.endswith("/") or not local else local)
        try:
            expected = file.read_bytes()
        except OSError:
            self._error(f"GET {path}: served from {release}, which has no such file")
            return None
        if body != expected:
            # nginx evaluates $realpath_root when it writes the headers, not when it opened the file:
            # a swap in between names the next release. The body must still be one release's whole file.
            whole = [r.name for r in self.releases.iterdir() if (r / file.relative_to(self.releases / release)).is_file()
                     and (r / file.relative_to(self.releases / release)).read_bytes() == body]
            if not whole:
                self._error(f"GET {path}: {len(body)} bytes match no release's file (header named {release})")
                return None
            release = min(whole, key=lambda r: abs(seq(r) - seq(release)))  # the release live at that moment
        return release, body

    def _sample(self, conn: http.client.HTTPConnection, rng: random.Random) -> None:
        path = rng.choice(self.pages)
        first = self._fetch(conn, path)
        if first is None:
            return
        release, page = first
        build = build_id_of(page) or ""
        if build != release and self.by_release:
            self._error(f"GET {path}: build id {build} served from release {release}")
            return
        sheets = [sheet for sheet in stylesheets(page) if not sheet.startswith("/pagefind/")]  # Pagefind's own
        if not sheets:  # carries no site version (versioned_site marks the theme's)
            self._error(f"GET {path}: no stylesheet")
            return
        css_path = rng.choice(sheets)
        css = self._fetch(conn, css_path)
        again = self._fetch(conn, path)
        if css is None or again is None:
            return
        css_release, css_body = css
        page_version, css_version = VERSION.search(page), VERSION.search(css_body)
        with self._lock:
            self.samples += 1
            self.seen.add(build)
            later = build_id_of(again[1])
            if later != build:
                self.straddled += 1  # a publish happened between the two page fetches:
                # then the sheet comes from a release that was live at some moment in between
                if self.by_release and not seq(build) <= seq(css_release) <= seq(later or ""):
                    self.mixed.append(f"{path} (builds {build}, {later}) with {css_path} from {css_release}")
                return
            if (css_release != build and self.by_release) or page_version is None or css_version is None or \
                    page_version.group(1) != css_version.group(1):
                self.mixed.append(f"{path} (build {build}) with {css_path} from {css_release}")

    def _error(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)


def stylesheets(page: bytes) -> list[str]:
    """The hrefs of a page's <link rel="stylesheet"> tags, in any attribute order."""
    found = []
    for tag in re.findall(rb"<link\b[^>]*>", page):
        href = re.search(rb'\bhref="([^"]+)"', tag)
        if re.search(rb'\brel="[^"]*stylesheet', tag) and href:
            found.append(href.group(1).decode())
    return found


def html_pages(release: Path) -> list[str]:
    """The URLs of the release's pages that have a stylesheet (redirect pages of aliases have none)."""
    return sorted("/" + p.relative_to(release).as_posix().removesuffix("index.html")
                  for p in release.rglob("*.html") if stylesheets(p.read_bytes()))


def test_readers_see_one_whole_release_while_publishing_20_times(bundled_site: Path, tmp_path: Path,
                                                                 nginx_for) -> None:
    site_a = versioned_site(bundled_site, tmp_path / "site-a", "A")
    site_b = versioned_site(bundled_site, tmp_path / "site-b", "B")
    log: list[str] = []
    builds = {v: build_checked(site, log.append, FIXED_NOW, jobs=1) for v, site in (("A", site_a), ("B", site_b))}
    (tmp_path / "www").mkdir()
    target = tmp_path / "www" / "blog"
    folder = FolderTarget(target, log.append)
    live = [folder.publish(builds["A"])]
    server = nginx_for(target)
    releases = folder.releases
    reader = Reader(server.port, releases, html_pages(releases / live[0]))
    assert len(reader.pages) >= 20
    reader.start()
    started = time.monotonic()
    for number in range(20):
        version = "B" if number % 2 == 0 else "A"
        live.append(folder.publish(builds[version]))
        deadline = time.monotonic() + 5
        while reader.requests < 50 * (number + 1) and time.monotonic() < deadline:
            time.sleep(0.01)  # let the readers make their share of requests between two swaps
    publishing = time.monotonic() - started
    requests_during = reader.requests
    reader.stop()
    print(f"\n20 publishes in {publishing:.1f} s; {requests_during} requests during them "
          f"({reader.requests} in all), {reader.samples} page+stylesheet+page samples, {reader.straddled} "
          f"straddled a swap, {len(reader.seen)} releases seen, {len(reader.errors)} errors, "
          f"{len(reader.mixed)} mixed")
    assert reader.errors == []
    assert reader.mixed == []
    assert requests_during >= 1000
    assert len(reader.seen) >= 10  # the readers really did see the releases come and go
    assert len(set(live)) == 21
    assert sorted(n for n in os.listdir(releases) if not n.startswith(".")) == live[-5:]

    # --rollback: nginx serves the previous release, whole.
    previous = folder.rollback()
    assert previous == live[-2]
    for path in reader.pages:
        status, headers, body = server.get(path)
        assert status == 200 and release_of(headers) == previous and build_id_of(body) == previous
    status, headers, css = server.get("/css/bitopia.css")
    assert status == 200 and release_of(headers) == previous and b"site version B" in css


def test_the_reader_catches_a_torn_publish(bundled_site: Path, tmp_path: Path, nginx_for) -> None:
    """The check above can fail: copying a release into a live folder (as rsync does) is caught."""
    log: list[str] = []
    (tmp_path / "www").mkdir()
    scratch = FolderTarget(tmp_path / "www" / "scratch", log.append)
    names = {}
    for version in ("A", "B"):
        site = versioned_site(bundled_site, tmp_path / f"site-{version}", version)
        names[version] = scratch.publish(build_checked(site, log.append, FIXED_NOW, jobs=1))
    live = tmp_path / "www" / "live"
    shutil.copytree(scratch.releases / names["A"], live)
    server = nginx_for(live)
    # The reader verifies bytes against the folder nginx says it read: here, always `live`.
    reader = Reader(server.port, tmp_path / "www", html_pages(live), by_release=False)
    reader.start()
    for number in range(10):
        source = scratch.releases / names["B" if number % 2 == 0 else "A"]
        for page in sorted(source.rglob("*.html")):  # the pages first, the stylesheets later
            shutil.copy(page, live / page.relative_to(source))
        time.sleep(0.1)
        for css in sorted(source.rglob("*.css")):
            shutil.copy(css, live / css.relative_to(source))
        time.sleep(0.05)
    reader.stop()
    print(f"\ntorn publish: {len(reader.mixed)} of {reader.samples} samples mixed a page and a stylesheet "
          f"of different versions; {len(reader.errors)} errors")
    assert reader.mixed, f"no mix seen in {reader.samples} samples"


def test_a_killed_publish_leaves_the_previous_release_served(bundled_site: Path, tmp_path: Path,
                                                             nginx_for) -> None:
    site_a = versioned_site(bundled_site, tmp_path / "site-a", "A")
    site_b = versioned_site(bundled_site, tmp_path / "site-b", "B")
    (tmp_path / "www").mkdir()
    target = tmp_path / "www" / "blog"
    folder = FolderTarget(target, lambda line: None)
    first = folder.publish(build_checked(site_a, lambda line: None, FIXED_NOW, jobs=1))
    server = nginx_for(target)
    whole = {p.relative_to(folder.releases / first).as_posix(): p.read_bytes()
             for p in (folder.releases / first).rglob("*") if p.is_file()}

    command = [sys.executable, "-m", "bitopia_site", "publish", "-s", str(site_b), "-j", "1", str(target)]
    env = {**os.environ, "BITOPIA_PUBLISH_PAUSE": "60", "PYTHONPATH": str(REPO)}
    killed = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    assert killed.stdout is not None
    for line in killed.stdout:
        lines.append(line.rstrip("\n"))
        if "BITOPIA_PUBLISH_PAUSE" in line:
            break
    partials = [n for n in os.listdir(folder.releases) if n.startswith(".partial-")]
    assert len(partials) == 1, lines
    assert 0 < sum(1 for p in (folder.releases / partials[0]).rglob("*") if p.is_file()) < len(whole)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)

    assert os.readlink(target) == f"blog.releases/{first}"
    for path, data in whole.items():
        url = "/" + path.removesuffix("index.html")
        status, headers, body = server.get(url)
        assert (status, release_of(headers)) == (200, first), url
        assert body == data, url

    done = subprocess.run([sys.executable, "-m", "bitopia_site", "publish", "-s", str(site_b), "-j", "1",
                           str(target)], env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout.splitlines()
    assert f"removed the partial release {partials[0]}, left by an interrupted publish" in out
    assert not [n for n in os.listdir(folder.releases) if n.startswith(".partial-")]
    second = folder.live()
    assert second is not None and second != first and out[-1].startswith(f"live: {second} ")
    status, headers, body = server.get("/")
    assert status == 200 and release_of(headers) == second and b"site version B" in body
