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
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
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
        self.sock.sendall(f"GET /__bitopia/events?build={build} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="bundled,1000,10000", help="comma-separated: bundled and/or post counts")
    parser.add_argument("--edits", type=int, default=7, help="edits per corpus")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between edits")
    parser.add_argument("--jobs", type=int, default=0, help="build processes (0: all cores)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "bitopia-serve-bench",
                        help="where corpora are generated and kept")
    parser.add_argument("--profile", action="store_true", help="also cProfile one rebuild per corpus")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # restore the edited post on the way out
    args.workdir.mkdir(parents=True, exist_ok=True)
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
