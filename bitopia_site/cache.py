"""The persistent cache in `.bitopia-cache/`: parsed documents by content hash, and what the last
build wrote (each output page's fingerprint), so unchanged work is skipped.

Every file carries a key (package version, Python version, settings); a cache with another key
is dropped, one that cannot be read is dropped with one warning, never trusted.

A cache file is a pickle (or Jinja's compiled code), and reading one can run code, so each file is
signed with a secret key of this user's kept outside every site (`machine_key`: $BITOPIA_KEY_DIR,
$XDG_CACHE_HOME/bitopia or ~/.cache/bitopia) and checked before it is read: a cache that came with
a site (copied, or committed to its repository) is discarded unread, with one warning.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import re
import secrets
import stat
import sys
import tempfile
import zlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2

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
TEMPLATES = "templates"  # compiled templates (render._bytecode_cache), in the cache folder
KEY_DIR_ENV = "BITOPIA_KEY_DIR"  # where the key is kept, in place of the user's cache folder
_FORMAT = 1
_KEY_SIZE = 32
_MAGIC = b"bitopia signed cache 1\n"
_TAG_SIZE = 32
_PICKLE_NAME = re.compile(r"[a-z]+(-[0-9a-f]+)?\.pickle")  # documents-07.pickle, output-3fa2c1d0e9b4.pickle
_TEMPLATE_NAME = re.compile(r"__[0-9a-f]{12}_[0-9a-f]{40}\.cache")  # a prefix by code version, Jinja's key


@lru_cache(maxsize=1)
def code_version() -> str:
    """The package version, the versions of the libraries that shape output, and a hash of this
    package's own code: a cache made by other code is never used (an editable install included)."""
    h = hashlib.blake2b(digest_size=12)
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        h.update(path.read_bytes())
    libraries = [f"{name}={_version(name)}" for name in ("cmarkgfm", "pygments", "jinja2", "pyyaml", "markdown-it-py")]
    return f"{__version__}:{','.join(libraries)}:{h.hexdigest()}"


def _version(name: str) -> str:
    """The installed version of a library, or "none" (markdown-it-py, an optional engine)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


def key_folder() -> Path | None:
    """Where the signing key is kept: $BITOPIA_KEY_DIR, else $XDG_CACHE_HOME/bitopia, else
    ~/.cache/bitopia; None when there is no home."""
    named = os.environ.get(KEY_DIR_ENV)
    if named:
        return Path(named)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "bitopia"
    try:
        return Path.home() / ".cache" / "bitopia"
    except RuntimeError:
        return None


@lru_cache(maxsize=1)
def machine_key() -> bytes | None:
    """This user's secret key for cache files, made on first use; None when it can be neither read
    nor made (a read-only home, say): then nothing is cached."""
    folder = key_folder()
    if folder is None:
        return None
    path = folder / "key"
    for attempt in range(2):
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            key = None
        except OSError:
            return None
        if key is not None and len(key) == _KEY_SIZE:
            return key
        if attempt:
            return None
        try:
            _make_key(path, replace=key is not None)
        except OSError:
            return None
    return None


def _make_key(path: Path, replace: bool) -> None:
    """Write a new key whole, then put it in place: beside a key another process made meanwhile,
    the first one made is kept (a link never replaces a file); a damaged key is replaced."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".key-", dir=path.parent)  # readable by this user alone
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(_KEY_SIZE))
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)
            except FileExistsError:
                pass
    finally:
        try:
            os.unlink(temp)
        except OSError:
            pass


def _tag(key: bytes, name: str, payload: bytes | memoryview) -> bytes:
    """HMAC-SHA256 of the file's name and contents: OpenSSL's, about 1.5 GB/s on a core with SHA
    instructions (keyed BLAKE2b: 0.8)."""
    mac = hmac.new(key, b"bitopia cache\0" + name.encode("utf-8", "surrogateescape") + b"\0", "sha256")
    mac.update(payload)
    return mac.digest()


def read_signed(path: Path, key: bytes) -> memoryview | None:
    """The contents of the cache file at `path` if this machine's `key` signed them under its name,
    else None (made elsewhere, altered, or not a regular file). OSError when it cannot be read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO must not hang the build
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with open(fd, "rb", closefd=False) as handle:
            data = memoryview(handle.read())
    finally:
        os.close(fd)
    header = len(_MAGIC) + _TAG_SIZE
    if len(data) < header or data[:len(_MAGIC)] != _MAGIC:
        return None
    payload = data[header:]
    if not hmac.compare_digest(data[len(_MAGIC):header], _tag(key, path.name, payload)):
        return None
    return payload


def write_signed(path: Path, payload: bytes, key: bytes) -> None:
    """Replace the cache file at `path` in one rename with `payload`, signed under its name."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(_MAGIC + _tag(key, path.name, payload))
            handle.write(payload)
        os.replace(temp, path)
    except BaseException:
        try:
            temp.unlink()
        except OSError:
            pass
        raise


def _cache_files(folder: Path, names: re.Pattern[str]) -> list[Path]:
    """The files in `folder` named as the cache names its files: nothing else is ever deleted."""
    try:
        return sorted(folder / name for name in os.listdir(folder) if names.fullmatch(name))
    except OSError:
        return []


class Cache:
    """Reads and writes one site's cache files; every failure falls back to 'no cache'."""

    def __init__(self, root: Path, report: Report, enabled: bool = True) -> None:
        self.folder = root / CACHE_DIR
        self.report = report
        self.enabled = enabled
        self._vetted = False

    def _key(self, kind: str, settings: str) -> str:
        return f"{kind}:{_FORMAT}:{code_version()}:{sys.version_info[:2]}:{settings}"

    def load(self, kind: str, settings: str) -> dict[str, Any]:
        """The entries saved under `kind` with these settings, or {} when there are none."""
        key = machine_key() if self.enabled else None
        if key is None:
            return {}
        self._vet(key)
        name = f"{kind}.pickle"
        try:
            payload = read_signed(self.folder / name, key)
            if payload is None:
                self._discard_foreign(key)
                return {}
            with no_cycle_collection():
                data = pickle.loads(payload)
        except FileNotFoundError:
            return {}
        except Exception:  # signed here but unreadable (its classes changed, say): do not trust it
            self.report.warn(SiteError(f"{CACHE_DIR}/{name}", "the cache could not be read and was discarded",
                                       "nothing to do; it is rebuilt (or run `bitopia clean`)"))
            return {}
        if not isinstance(data, dict) or data.get("key") != self._key(kind, settings):
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def save(self, kind: str, settings: str, entries: dict[str, Any]) -> None:
        """Replace the `kind` file in one rename; a cache that cannot be written is only skipped."""
        key = machine_key() if self.enabled else None
        if key is None:
            return
        try:
            self._make_folder()
            payload = pickle.dumps({"key": self._key(kind, settings), "entries": entries},
                                   protocol=pickle.HIGHEST_PROTOCOL)
            write_signed(self.folder / f"{kind}.pickle", payload, key)
        except OSError:
            pass

    def _vet(self, key: bytes) -> None:
        """Once: check the compiled templates (few and small), which a worker loads where no warning
        can reach the report; a foreign one discards all that is foreign."""
        if self._vetted:
            return
        self._vetted = True
        for path in _cache_files(self.folder / TEMPLATES, _TEMPLATE_NAME):
            try:
                if read_signed(path, key) is None:
                    self._discard_foreign(key)
                    return
            except OSError:
                pass

    def _discard_foreign(self, key: bytes) -> None:
        """Delete every cache file this machine did not sign, and say so once."""
        self._vetted = True
        for path in [*_cache_files(self.folder, _PICKLE_NAME), *_cache_files(self.folder / TEMPLATES, _TEMPLATE_NAME)]:
            try:
                if read_signed(path, key) is None:
                    path.unlink()
            except OSError:
                pass
        self.report.warn(SiteError(f"{CACHE_DIR}/", "a cache not made on this machine was discarded unread",
                                   f"nothing to do: it is made again; keep {CACHE_DIR}/ out of the repository (a CI "
                                   f"that keeps it between runs must keep the key, in ${KEY_DIR_ENV}, too)"))

    def hold(self, kind: str) -> int | None:
        """Wait for the lock named `kind`, then hold it until the descriptor returned is closed (None
        where there is no lock: no cache folder to keep it in, or no flock). Builds into one output
        (and `bitopia clean` of it) take turns this way."""
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
    """Wait until a build of the site at `root` into `out` that is running now (in another
    process) is done."""
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


class SignedBytecodeCache(jinja2.BytecodeCache):
    """Jinja's compiled templates as files in `folder` (named `prefix` + Jinja's key), signed like
    the other cache files: one this machine did not sign is compiled again, never loaded."""

    def __init__(self, folder: Path, prefix: str, key: bytes) -> None:
        self.folder = folder
        self.prefix = prefix
        self.key = key

    def _path(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.folder / f"{self.prefix}{bucket.key}.cache"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            payload = read_signed(self._path(bucket), self.key)
        except OSError:
            return
        if payload is not None:
            bucket.bytecode_from_string(payload.tobytes())

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            write_signed(self._path(bucket), bucket.bytecode_to_string(), self.key)
        except OSError:
            pass

    def clear(self) -> None:
        for path in _cache_files(self.folder, _TEMPLATE_NAME):
            if path.name.startswith(self.prefix):
                try:
                    path.unlink()
                except OSError:
                    pass


def is_compiled_template(name: str) -> bool:
    """Whether a file in the templates folder is named as a compiled template (of any code version)."""
    return _TEMPLATE_NAME.fullmatch(name) is not None
