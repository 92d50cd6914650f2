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
import zlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from bitopia_site import __version__
from bitopia_site.content import Parsed
from bitopia_site.errors import Report, SiteError
from bitopia_site.parallel import no_cycle_collection
from bitopia_site.sources import Signature

try:
    import fcntl
except ImportError:  # not on this system: builds do not lock
    fcntl = None  # type: ignore[assignment]

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
            with open(path, "rb") as handle, no_cycle_collection():
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
            self._make_folder()
            temp = self.folder / f".{kind}.{os.getpid()}.tmp"
            with open(temp, "wb") as handle:
                pickle.dump({"key": self._key(kind, settings), "entries": entries}, handle,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, self.folder / f"{kind}.pickle")
        except OSError:
            pass

    def hold(self, kind: str) -> int | None:
        """Wait for the lock named `kind`, then hold it until the descriptor returned is closed (None
        where there is no lock: no cache folder to keep it in, or no flock). Builds into one output
        take turns this way, after the work the last one left running (see writer._link_spare)."""
        if fcntl is None:
            return None
        path = self.folder / f"{kind}.lock"
        try:
            if self.enabled:
                self._make_folder()
            handle = os.open(path, os.O_RDWR | (os.O_CREAT if self.enabled else 0) | os.O_CLOEXEC, 0o666)
        except OSError:
            return None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError:
            os.close(handle)
            return None
        return handle

    def _make_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        gitignore = self.folder / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n")

    def drop(self, kind: str) -> None:
        """Forget the `kind` file: what it says is no longer true."""
        try:
            (self.folder / f"{kind}.pickle").unlink()
        except OSError:
            pass


def record_key(out: Path) -> tuple[str, str]:
    """Where the cache keeps the record of builds into `out`: one file per output folder (and the
    name of their lock)."""
    return f"output-{hashlib.blake2b(str(out).encode(), digest_size=6).hexdigest()}", str(out)


def settle(root: Path, out: Path) -> None:
    """Wait until the work the last build of the site at `root` into `out` left running (linking
    its spare tree) is done."""
    lock = Cache(root.resolve(), Report(), False).hold(record_key(out.resolve())[0])
    if lock is not None:
        os.close(lock)


SHARDS = 16


class DocumentCache:
    """Parsed documents by source path, with the content hash and file signature they came from.

    Kept in shards, so an edited post rewrites one small file, not the whole cache. A source whose
    signature (size, mtime, ctime, inode) is unchanged need not even be read: no tool can set a
    file's ctime back, so an edit always changes it.
    """

    def __init__(self, cache: Cache | None, settings_key: str) -> None:
        self.cache = cache
        self.key = settings_key
        self.shards: list[dict[str, Any]] = [cache.load(f"documents-{i:02d}", settings_key) if cache else {}
                                             for i in range(SHARDS)]
        self.dirty: set[int] = set()

    @staticmethod
    def _shard(path: str) -> int:
        return zlib.crc32(path.encode("utf-8", "surrogatepass")) % SHARDS

    def signatures(self) -> dict[str, Signature]:
        return {path: entry[2] for shard in self.shards for path, entry in shard.items()
                if isinstance(entry, tuple) and len(entry) == 3}

    def get(self, path: str, digest: str | None) -> Parsed | None:
        """The cached parse of `path` if its content hash is `digest` (None: its signature matched)."""
        entry = self.shards[self._shard(path)].get(path)
        if (isinstance(entry, tuple) and len(entry) == 3 and (digest is None or entry[0] == digest)
                and isinstance(entry[1], Parsed)):
            return entry[1]
        return None

    def get_signed(self, path: str, signature: object) -> Parsed | None:
        """The cached parse of `path` if it was made from the file with this signature."""
        entry = self.shards[self._shard(path)].get(path)
        if (signature is not None and isinstance(entry, tuple) and len(entry) == 3 and entry[2] == signature
                and isinstance(entry[1], Parsed)):
            return entry[1]
        return None

    def put(self, path: str, digest: str, parsed: Parsed, signature: Signature | None) -> None:
        number = self._shard(path)
        entry = self.shards[number].get(path)
        if isinstance(entry, tuple) and len(entry) == 3 and entry[0] == digest and entry[2] == signature:
            return
        self.shards[number][path] = (digest, parsed, signature)
        self.dirty.add(number)

    def keep_only(self, paths: set[str]) -> None:
        """Forget the sources that are gone."""
        for number, shard in enumerate(self.shards):
            gone = shard.keys() - paths
            for path in gone:
                del shard[path]
            if gone:
                self.dirty.add(number)

    def save(self) -> None:
        if self.cache is not None:
            for number in sorted(self.dirty):
                self.cache.save(f"documents-{number:02d}", self.key, self.shards[number])
        self.dirty.clear()
