#!/usr/bin/env python3
"""Measure `bitopia serve` save -> reload latency: from writing a post to the SSE event reaching a client.

Runs the dev server in this process on a free port, listens to its event stream over a real
socket like a browser does, edits one post several times and prints, per corpus, the median,
min and max of:
  latency   file written -> `build` event received by the client (what a person waits for)
  notice    file written -> the watcher's first event for it
  settle    first event -> build start (the ~100 ms debounce)
  build     the rebuild itself
  deliver   build end -> event received

Corpora: the repository's own site, and sites of N posts made by ../shared/bench/gen_corpus.py
(relative to the repository; generated once into --workdir and reused). Examples:

    python3 bench/serve_latency.py                       # bundled, 1k, 10k
    python3 bench/serve_latency.py --sizes bundled,1000 --edits 9
    python3 bench/serve_latency.py --sizes 10000 --profile
    python3 bench/serve_latency.py --memory 10000 --edits 100  # the server's memory after many edits
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GEN_CORPUS = REPO.parent / "shared" / "bench" / "gen_corpus.py"
sys.path.insert(0, str(REPO))

from bitopia_site.build import BuildOptions, build  # noqa: E402
from bitopia_site.incremental import live_builder  # noqa: E402
from bitopia_site.serve.server import DevServer  # noqa: E402


def make_corpus(size: str, workdir: Path) -> Path:
    """The site folder for `size` ('bundled' or a number of posts), made once and reused."""
    site = workdir / f"site-{size}"
    if size == "bundled":
        if site.exists():
            shutil.rmtree(site)
        site.mkdir(parents=True)
        shutil.copy(REPO / "site.yaml", site / "site.yaml")
        for name in ("content", "themes"):
            shutil.copytree(REPO / name, site / name)
        return site
    done = site / ".complete"
    if not done.exists():
        if not GEN_CORPUS.is_file():
            raise SystemExit(f"{GEN_CORPUS} is missing: the N-post corpora need ../shared/bench/gen_corpus.py")
        if site.exists():
            shutil.rmtree(site)
        print(f"  generating {size} posts into {site} ...", flush=True)
        subprocess.run([sys.executable, str(GEN_CORPUS), "--posts", size, "--seed", "1", "--out", str(site)],
                       check=True, stdout=subprocess.DEVNULL)
        done.write_text("generated\n")
    return site


class EventListener:
    """A client of /__bitopia/events that timestamps each `build` event as it arrives."""

    def __init__(self, port: int, build: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(f"GET /__bitopia/events?build={build} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        self.arrivals: list[float] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            now = time.perf_counter()
            buffer += chunk
            while b"\n\n" in buffer:
                message, buffer = buffer.split(b"\n\n", 1)
                if b"event: build" in message:
                    with self.cond:
                        self.arrivals.append(now)
                        self.cond.notify_all()

    def wait(self, count: int, timeout: float) -> float | None:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.arrivals) >= count, timeout):
                return None
            return self.arrivals[count - 1]

    def close(self) -> None:
        self.sock.close()


def pick_post(site: Path) -> Path:
    posts = sorted((site / "content" / "posts").glob("*.md"))
    return posts[len(posts) // 2]


def measure(site: Path, edits: int, gap: float, jobs: int) -> dict[str, list[float]]:
    started = time.perf_counter()
    server = DevServer(site, live_builder(site, BuildOptions(drafts=True, future=True, jobs=jobs)), port=0)
    server.start()
    print(f"  first build (serve folder fresh or reused): {time.perf_counter() - started:.2f} s; "
          f"{'error' if server.state.error_page else 'ok'}", flush=True)
    listener = EventListener(server.port, server.state.token)
    deadline = time.monotonic() + 5
    while server.hub.clients < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    post = pick_post(site)
    original = post.read_bytes()
    figures: dict[str, list[float]] = {k: [] for k in ("latency", "notice", "settle", "build", "deliver")}
    try:
        for n in range(1, edits + 1):
            time.sleep(gap)
            seen, builds = len(listener.arrivals), server.builds
            with open(post, "ab") as handle:
                handle.write(f"\n\nEdit number {n}, made by the latency benchmark.\n".encode())
            written = time.perf_counter()
            arrived = listener.wait(seen + 1, 300)
            if arrived is None:
                print(f"  edit {n}: no event within 300 s", flush=True)
                break
            build_end = server.build_started + server.last_seconds
            figures["latency"].append(arrived - written)
            figures["notice"].append(server.changed_at - written)
            figures["settle"].append(server.build_started - server.changed_at)
            figures["build"].append(server.last_seconds)
            figures["deliver"].append(arrived - build_end)
            print(f"  edit {n}: {1000 * (arrived - written):7.1f} ms (build {1000 * server.last_seconds:.1f} ms)",
                  flush=True)
            time.sleep(0.3)
            if server.builds != builds + 1:
                print(f"  edit {n}: {server.builds - builds} builds for one edit", flush=True)
    finally:
        post.write_bytes(original)
        listener.close()
        server.close()
    return figures


# --- in a real browser, against hugo server (issue #20's table) ---------------------------------------

KINDS = ("append a sentence to a post (its own page open)", "change a post's title (home page open)",
         "write a new post dated now (home page open)")
PEERS_HUGO = REPO.parent / "shared" / "bench" / "peers" / "hugo"


def newest_post(site: Path) -> tuple[Path, str]:
    """The newest post of the corpus (the first on the home page) and its URL."""
    best: tuple[str, Path, str] = ("", site, "")
    for post in (site / "content" / "posts").glob("*.md"):
        head = post.read_text(errors="replace")[:600]
        date = re.search(r"^date:\s*['\"]?([^'\"\n]+)", head, re.M)
        url = re.search(r"^url:\s*['\"]?([^'\"\n]+)", head, re.M)
        if date and url and date.group(1) > best[0]:
            best = (date.group(1), post, url.group(1))
    return best[1], best[2]


def post_url(post: Path) -> str:
    found = re.search(r"^url:\s*['\"]?([^'\"\n]+)", post.read_text(errors="replace")[:600], re.M)
    return found.group(1) if found else "/"


def wait_visible(page, text: str, timeout: float = 120.0) -> float | None:  # noqa: ANN001 - Playwright's Page
    """perf_counter() when `text` shows in the page's text (across reloads), None after `timeout`."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            if page.evaluate("t => !!document.body && document.body.innerText.includes(t)", text):
                return time.perf_counter()
        except Exception:  # noqa: BLE001 - the page is reloading
            pass
        time.sleep(0.005)
    return None


def edit_kinds(browser, base: str, site: Path, edits: int, idle) -> dict[str, list[float]]:  # noqa: ANN001
    """Save -> visible, in seconds, for each of KINDS; `idle()` waits until the server is done."""
    figures: dict[str, list[float]] = {kind: [] for kind in KINDS}
    page = browser.new_page()
    page.set_default_timeout(600_000)  # at 100k posts, hugo server took more than 30 s to answer during a rebuild
    body_post = pick_post(site)
    newest, _ = newest_post(site)
    originals = {body_post: body_post.read_bytes(), newest: newest.read_bytes()}
    added: list[Path] = []
    try:
        for n in range(1, edits + 1):
            stamp = f"{os.getpid()}x{n}x{int(time.time())}"
            page.goto(base + post_url(body_post).lstrip("/"))
            idle()
            text = f"Sentence {stamp} appended."
            with open(body_post, "a") as handle:
                handle.write(f"\n\n{text}\n")
            figures[KINDS[0]].append(_seen(page, text, time.perf_counter()))
            page.goto(base)
            idle()
            title = f"Retitled {stamp}"
            newest.write_text(re.sub(r"^title:.*$", f"title: \"{title}\"", newest.read_text(), count=1, flags=re.M))
            figures[KINDS[1]].append(_seen(page, title, time.perf_counter()))
            idle()
            title = f"Brand new {stamp}"
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            fresh = site / "content" / "posts" / f"brand-new-{stamp}.md"
            added.append(fresh)
            fresh.write_text(f"---\ntitle: \"{title}\"\ndate: {now}\ntags: [bench]\n---\nNew words.\n")
            figures[KINDS[2]].append(_seen(page, title, time.perf_counter()))
            idle()
    finally:
        for path, data in originals.items():
            path.write_bytes(data)
        for path in added:
            path.unlink(missing_ok=True)
        page.close()
    return figures


def _seen(page, text: str, saved: float) -> float:  # noqa: ANN001
    shown = wait_visible(page, text)
    seconds = float("nan") if shown is None else shown - saved
    print(f"  {text!r} visible after {1000 * seconds:,.0f} ms", flush=True)
    return seconds


def bitopia_in_browser(browser, site: Path, edits: int, jobs: int) -> dict[str, list[float]]:  # noqa: ANN001
    server = DevServer(site, live_builder(site, BuildOptions(drafts=True, future=True, jobs=jobs)), port=0)
    server.start()

    def idle() -> None:
        time.sleep(0.3)
        server.gate.wait(600)
        time.sleep(0.5)

    try:
        return edit_kinds(browser, server.url, site, edits, idle)
    finally:
        server.close()


def hugo_in_browser(browser, site: Path, edits: int) -> dict[str, list[float]]:  # noqa: ANN001
    port = free_port()
    proc = subprocess.Popen(["hugo", "server", "--bind", "127.0.0.1", "--port", str(port), "--source", str(site)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True).start()  # hugo's log, line by line
    try:
        deadline = time.monotonic() + 900
        while not any("Web Server is available" in line for line in lines):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("hugo server did not start: " + "".join(lines[-5:]))
            time.sleep(0.1)

        def idle() -> None:
            count = -1
            while count != len(lines):  # no output for a second: the rebuild is done
                count = len(lines)
                time.sleep(1.0)

        return edit_kinds(browser, f"http://127.0.0.1:{port}/", site, edits, idle)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def browser_table(posts: str, workdir: Path, edits: int, jobs: int) -> None:
    """Issue #20's table: save -> visible in Chromium, bitopia serve against hugo server, medians."""
    from playwright.sync_api import sync_playwright
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import CHROMIUM, CHROMIUM_ARGS
    corpus = make_corpus(posts, workdir)
    sites = {}
    for tool in ("bitopia", "hugo"):
        site = sites[tool] = workdir / f"{tool}-{posts}"
        if not site.exists():
            shutil.copytree(corpus, site, ignore=shutil.ignore_patterns(".bitopia-cache", ".complete"))
            shutil.copy(PEERS_HUGO / "hugo.toml", site / "hugo.toml")
            if tool == "hugo":
                shutil.copytree(PEERS_HUGO / "layouts", site / "layouts")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        ours = bitopia_in_browser(browser, sites["bitopia"], edits, jobs)
        theirs = hugo_in_browser(browser, sites["hugo"], edits)
        browser.close()
    print(f"\nsave -> visible in Chromium, {posts} posts, medians of {edits}\n")
    print("| edit | bitopia serve | hugo server | ratio |\n| --- | --- | --- | --- |")
    for kind in KINDS:
        mine, peer = _median(ours[kind]), _median(theirs[kind])
        print(f"| {kind} | {1000 * mine:,.0f} ms | {1000 * peer:,.0f} ms | {mine / peer:.2f}× |")
    missed = {tool: sum(v != v for vs in f.values() for v in vs) for tool, f in (("bitopia", ours), ("hugo", theirs))}
    print(f"\nedits never seen within 120 s (left out of the medians): {missed}")


def _median(values: list[float]) -> float:
    seen = [v for v in values if v == v]  # NaN: never seen
    return statistics.median(seen) if seen else float("nan")


def profile_rebuild(site: Path, jobs: int, top: int = 25) -> None:
    """cProfile one build with one edited post into a warm folder (what serve does)."""
    out = Path(tempfile.mkdtemp(prefix="bitopia-bench-"))
    try:
        options = BuildOptions(drafts=True, future=True, jobs=jobs)
        build(site, out / "site", options)
        post = pick_post(site)
        original = post.read_bytes()
        post.write_bytes(original + b"\n\nProfiled edit.\n")
        profiler = cProfile.Profile()
        try:
            profiler.enable()
            build(site, out / "site", options)
            profiler.disable()
        finally:
            post.write_bytes(original)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(top)
        print(text.getvalue())
    finally:
        shutil.rmtree(out, ignore_errors=True)


def resident_kib() -> int:
    """This process's resident memory (VmRSS), in KiB: the dev server runs in it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit("no VmRSS in /proc/self/status: --memory needs Linux")


AT_REST = 2.0  # seconds the server is left alone before a reading: a person pauses between saves, and
# the server hands back the memory a build freed a moment after it (serve/server.py, TIDY_AFTER)


def memory_after_edits(posts: str, workdir: Path, edits: int, jobs: int) -> None:
    """The dev server's resident memory after its first build and after `edits` saves of every kind
    (a sentence appended, the newest post retitled, a new post), each waited for."""
    site = workdir / f"memory-{posts}"
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(make_corpus(posts, workdir), site, ignore=shutil.ignore_patterns(".bitopia-cache", ".complete"))
    server = DevServer(site, live_builder(site, BuildOptions(drafts=True, future=True, jobs=jobs)), port=0)
    server.start()
    try:
        time.sleep(AT_REST)
        first = resident_kib()
        print(f"  after the first build: {first / 1024:,.0f} MiB", flush=True)
        body_post, (newest, _) = pick_post(site), newest_post(site)
        for n in range(1, edits + 1):
            builds = server.builds
            kind = n % 3
            if kind == 1:
                with open(body_post, "a") as handle:
                    handle.write(f"\n\nSentence {n} appended.\n")
            elif kind == 2:
                newest.write_text(re.sub(r"^title:.*$", f'title: "Retitled {n}"', newest.read_text(), count=1, flags=re.M))
            else:
                now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                (site / "content" / "posts" / f"memory-bench-{n}.md").write_text(
                    f"---\ntitle: \"New post {n}\"\ndate: {now}\ntags: [bench]\n---\nNew words.\n")
            deadline = time.monotonic() + 300
            while server.builds == builds and time.monotonic() < deadline:
                time.sleep(0.02)
            server.gate.wait(300)
            if n % 25 == 0:
                time.sleep(AT_REST)
                print(f"  after {n} edits: {resident_kib() / 1024:,.0f} MiB", flush=True)
        time.sleep(AT_REST)
        last = resident_kib()
        print(f"  growth after {edits} edits: {100 * (last - first) / first:+.1f}% "
              f"({first / 1024:,.0f} -> {last / 1024:,.0f} MiB); {server.builds} builds", flush=True)
    finally:
        server.close()
        shutil.rmtree(site, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="bundled,1000,10000", help="comma-separated: bundled and/or post counts")
    parser.add_argument("--edits", type=int, default=7, help="edits per corpus")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between edits")
    parser.add_argument("--jobs", type=int, default=0, help="build processes (0: all cores)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "bitopia-serve-bench",
                        help="where corpora are generated and kept")
    parser.add_argument("--profile", action="store_true", help="also cProfile one rebuild per corpus")
    parser.add_argument("--browser", metavar="POSTS", help="instead: issue #20's table for a corpus of POSTS posts, "
                        "in Chromium, against hugo server")
    parser.add_argument("--memory", metavar="POSTS", help="instead: the dev server's memory after --edits saves "
                        "of every kind, on a corpus of POSTS posts")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # restore the edited post on the way out
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.browser:
        browser_table(args.browser, args.workdir, args.edits, args.jobs)
        return
    if args.memory:
        memory_after_edits(args.memory, args.workdir, args.edits, args.jobs)
        return
    results: list[tuple[str, dict[str, list[float]]]] = []
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        print(f"corpus {size}:", flush=True)
        site = make_corpus(size, args.workdir)
        results.append((size, measure(site, args.edits, args.gap, args.jobs)))
        if args.profile:
            profile_rebuild(site, args.jobs)
    print("\nsave -> reload event, ms (median / min / max)")
    names = ("latency", "notice", "settle", "build", "deliver")
    print(f"{'corpus':>8} " + " ".join(f"{name:>22}" for name in names))
    for size, figures in results:
        cells = []
        for name in names:
            values = figures[name]
            if values:
                low, mid, high = (1000 * v for v in (min(values), statistics.median(values), max(values)))
                cells.append(f"{mid:6.0f} /{low:6.0f} /{high:6.0f}")
            else:
                cells.append("-")
        print(f"{size:>8} " + " ".join(f"{cell:>22}" for cell in cells))


if __name__ == "__main__":
    main()
