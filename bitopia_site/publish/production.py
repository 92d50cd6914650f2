"""The production build publish ships: built, checked, identified by a digest of its bytes; and diffs."""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Mapping

from bitopia_site.build import add_search_index, render_site
from bitopia_site.cache import CACHE_DIR
from bitopia_site.stages import RenderedSite
from bitopia_site.check import CheckResult, check_build, production_options, unpublished_documents
from bitopia_site.errors import BuildFailed, SiteError
from bitopia_site.wording import plural

Log = Callable[[str], None]

BUILD_META = "bitopia-build"
_STAMP = re.compile(rb'<meta name="bitopia-build" content="[^"]*">\n?')
_HEAD_END = re.compile(rb"</head\s*>", re.I)


@dataclass
class Production:
    """A site built for production and checked: every output file, and a digest of all of them."""

    site: RenderedSite
    files: dict[str, bytes | Path]  # output path -> rendered bytes, or the static file to copy
    digest: str  # sha256 over every path and its bytes; the same site gives the same digest
    check: CheckResult
    built_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


def build_checked(root: Path, log: Log, now: datetime | None = None, jobs: int = 0,
                  strict: bool = False) -> Production:
    """Build the site for production in memory and check it; raise BuildFailed on any problem."""
    options = production_options(now, jobs, strict)
    log(f"building {root} for production: no drafts, no future or expired posts")
    started = time.perf_counter()
    site = render_site(root, options)  # no reuse: every page comes back rendered
    add_search_index(site, options, root.resolve() / CACHE_DIR / "search")
    missing = sorted(path for path, data in site.rendered.items() if data is None)
    if missing:
        raise SiteError(root, f"the build did not return {len(missing)} pages (e.g. {missing[0]})",
                        "this is a bug in bitopia; please report it")
    files: dict[str, bytes | Path] = {**site.static, **{p: d for p, d in site.rendered.items() if d is not None}}
    log(f"built {len(site.rendered)} pages and {len(site.static)} static files for {site.config.base_url} "
        f"in {time.perf_counter() - started:.2f} s" + (f" ({plural(len(site.report.warnings), 'warning')})"
                                                        if site.report.warnings else ""))
    assert options.now is not None
    result = check_build(site, unpublished_documents(site, options.now), jobs)
    log(result.summary())
    if result.problems:
        raise BuildFailed(result.problems)
    return Production(site, files, digest(files), result)


def digest(files: Mapping[str, bytes | Path]) -> str:
    """A hex digest of every path and its bytes, in sorted order."""
    total = hashlib.sha256()
    for path in sorted(files):
        total.update(path.encode("utf-8") + b"\0")
        total.update(file_hash(files[path]) + b"\n")
    return total.hexdigest()


def file_hash(data: bytes | Path) -> bytes:
    if isinstance(data, bytes):
        return hashlib.sha256(data).digest()
    hasher = hashlib.sha256()
    with open(data, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.digest()


def stamp(path: str, data: bytes, build_id: str) -> bytes:
    """Put `<meta name="bitopia-build" content=ID>` before an HTML page's </head>; other files as they are."""
    if not path.endswith((".html", ".htm")):
        return data
    match = _HEAD_END.search(data)
    if match is None:
        return data
    tag = f'<meta name="{BUILD_META}" content="{build_id}">\n'.encode()
    return data[:match.start()] + tag + data[match.start():]


def unstamp(data: bytes) -> bytes:
    """A page without its build stamp, so two builds of the same site compare equal."""
    return _STAMP.sub(b"", data, count=1)


def build_id_of(data: bytes) -> str | None:
    """The build id stamped into a page, if there is one."""
    match = re.search(rb'<meta name="bitopia-build" content="([^"]*)">', data)
    return match.group(1).decode() if match else None


@dataclass(frozen=True)
class Changes:
    """What a publish would change in the target: files added, changed and removed."""

    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: int

    def lines(self) -> list[str]:
        return ([f"  + {p}" for p in self.added] + [f"  ~ {p}" for p in self.changed]
                + [f"  - {p}" for p in self.removed])

    def summary(self) -> str:
        return (f"add {len(self.added)}, change {len(self.changed)} and remove {len(self.removed)} files "
                f"({self.unchanged} unchanged)")


def compare(new: Mapping[str, bytes | Path], old: Iterable[str], same: Callable[[str, bytes | Path], bool]) -> Changes:
    """Diff the new files against the old paths; `same(path, new_data)` compares one file present in both."""
    old_set = set(old)
    added = sorted(p for p in new if p not in old_set)
    both = sorted(p for p in new if p in old_set)
    changed = [p for p in both if not same(p, new[p])]
    return Changes(added, changed, sorted(old_set - new.keys()), len(both) - len(changed))


def files_below(folder: Path) -> dict[str, Path]:
    """Every file below `folder` (following no links out of it), by '/'-separated relative path."""
    found: dict[str, Path] = {}
    for dirpath, _, names in os.walk(folder):
        rel = os.path.relpath(dirpath, folder)
        for name in names:
            key = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
            found[key] = Path(dirpath) / name
    return found
