"""The persistent cache in `.bitopia-cache/`: parsed documents by content hash, and what the last
build wrote (each output page's fingerprint), so unchanged work is skipped.

Every file carries a key (package version, Python version, settings); a cache with another key
is dropped, one that cannot be read is dropped with one warning, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from bitopia_site import __version__
from bitopia_site.content import Parsed
from bitopia_site.errors import Report, SiteError

CACHE_DIR = ".bitopia-cache"
_FORMAT = 1


@lru_cache(maxsize=1)
def code_version() -> str:
    """The package version, the versions of the libraries that shape output, and a hash of this
    package's own code: a cache made by other code is never used (an editable install included)."""
    h = hashlib.blake2b(digest_size=12)
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        h.update(path.read_bytes())
    libraries = [f"{name}={metadata.version(name)}" for name in ("cmarkgfm", "pygments", "jinja2", "pyyaml")]
    return f"{__version__}:{','.join(libraries)}:{h.hexdigest()}"


class Cache:
    """Reads and writes one site's cache files; every failure falls back to 'no cache'."""

    def __init__(self, root: Path, report: Report, enabled: bool = True) -> None:
        self.folder = root / CACHE_DIR
        self.report = report
        self.enabled = enabled

    def _key(self, kind: str, settings: str) -> str:
        return f"{kind}:{_FORMAT}:{code_version()}:{sys.version_info[:2]}:{settings}"

    def load(self, kind: str, settings: str) -> dict[str, Any]:
        """The entries saved under `kind` with these settings, or {} when there are none."""
        if not self.enabled:
            return {}
        path = self.folder / f"{kind}.pickle"
        try:
            with open(path, "rb") as handle:
                data = pickle.load(handle)
        except FileNotFoundError:
            return {}
        except Exception:  # a damaged or foreign file: any unpickling error means "do not trust"
            self.report.warn(SiteError(f"{CACHE_DIR}/{kind}.pickle", "the cache could not be read and was discarded",
                                       "nothing to do; it is rebuilt (or run `bitopia clean`)"))
            return {}
        if not isinstance(data, dict) or data.get("key") != self._key(kind, settings):
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def save(self, kind: str, settings: str, entries: dict[str, Any]) -> None:
        """Replace the `kind` file in one rename; a cache that cannot be written is only skipped."""
        if not self.enabled:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            gitignore = self.folder / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("*\n")
            temp = self.folder / f".{kind}.{os.getpid()}.tmp"
            with open(temp, "wb") as handle:
                pickle.dump({"key": self._key(kind, settings), "entries": entries}, handle,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, self.folder / f"{kind}.pickle")
        except OSError:
            pass


    def drop(self, kind: str) -> None:
        """Forget the `kind` file: what it says is no longer true."""
        try:
            (self.folder / f"{kind}.pickle").unlink()
        except OSError:
            pass


def parsed_entry(entries: dict[str, Any], path: str, text_digest: str) -> Parsed | None:
    """A cached parse of `path` if its content hash still matches."""
    entry = entries.get(path)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == text_digest and isinstance(entry[1], Parsed):
        return entry[1]
    return None
