"""Watch a site's sources with watchdog and report settled bursts of changes.

`classify` (pure) sorts one changed path into a kind; `Debouncer` turns a burst of events
into one call; `SiteWatcher` wires watchdog to both, falling back to polling where inotify
(or its watch limit) is not available.
"""

from __future__ import annotations

import enum
import fnmatch
import hashlib
import os
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler, FileSystemMovedEvent
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from bitopia_site.config import HUGO_CONFIGS, STATIC_DOTFILES

CONFIG_FILES = frozenset(("site.yaml", *HUGO_CONFIGS))
WATCHED_FOLDERS = ("content", "templates", "themes", "static")
IGNORED_FOLDERS = frozenset(("output", "public", "resources", "layouts", "node_modules", "__pycache__"))
# Files editors and tools write next to the real one while saving: never a reason to rebuild.
TEMP_PATTERNS = (
    "*~", "*.swp", "*.swo", "*.swx", "*.swpx", "4913", ".#*", "#*#", "*.tmp", "*.temp", "*.bak",
    "*.kate-swp", ".goutputstream-*", "*___jb_tmp___", "*___jb_old___", "*.crdownload", "*.part",
    ".DS_Store", "Thumbs.db", "desktop.ini", "*.pyc",
)


class Kind(enum.Enum):
    """What a changed file is to the site; decides how the browser is told."""

    CONTENT = "content"
    TEMPLATE = "template"
    THEME = "theme"
    STATIC = "static"
    CONFIG = "config"
    IGNORED = "ignored"


def is_temp_file(name: str) -> bool:
    """True for an editor's swap, backup or lock file, or another tool's scratch file."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in TEMP_PATTERNS)


def classify(rel: str) -> Kind:
    """The kind of a path relative to the site root ('/'-separated).

    Hidden files and folders (`.git`, `.bitopia-cache`, a staging folder; in static/, all but the few it
    publishes: `.well-known`, `.htaccess`, `.nojekyll`), the output folders,
    editor temp files and anything outside content, templates, themes and static are ignored.
    """
    parts = PurePosixPath(rel).parts
    if not parts or parts[0] in ("/", ".."):
        return Kind.IGNORED
    name = parts[-1]
    published = STATIC_DOTFILES if parts[0] == "static" else frozenset()  # `.well-known/` and the like
    if any(part.startswith(".") and part not in published for part in parts) or is_temp_file(name):
        return Kind.IGNORED
    if any(part in IGNORED_FOLDERS for part in parts[:-1]):
        return Kind.IGNORED
    top = parts[0]
    if len(parts) == 1:
        return Kind.CONFIG if name in CONFIG_FILES else Kind.IGNORED
    if top == "content":
        return Kind.CONTENT if name.lower().endswith((".md", ".markdown")) else Kind.STATIC
    if top == "templates":
        return Kind.TEMPLATE
    if top == "static":
        return Kind.STATIC
    if top == "themes":
        if len(parts) >= 4 and parts[2] == "static":
            return Kind.STATIC
        return Kind.THEME if len(parts) >= 3 else Kind.IGNORED
    return Kind.IGNORED


def static_url(rel: str) -> str | None:
    """The URL a static source file is served at (`themes/x/static/css/a.css` -> `/css/a.css`)."""
    parts = PurePosixPath(rel).parts
    if classify(rel) is not Kind.STATIC:
        return None
    if parts[0] == "themes":
        return "/" + "/".join(parts[3:])
    return "/" + "/".join(parts[1:])


@dataclass(frozen=True)
class SiteLayout:
    """Where a site's files are: its root, theme folders outside it, folders never to watch."""

    root: Path
    external_themes: tuple[tuple[Path, str], ...] = ()  # (theme folder, theme name)
    ignored: tuple[Path, ...] = ()  # e.g. the serve folder, when it is inside the root

    def absolute(self, rel: str) -> Path:
        """The file a site-relative path (as `relative` makes them) names on disk."""
        for folder, name in self.external_themes:
            prefix = f"themes/{name}"
            if (rel == prefix or rel.startswith(prefix + "/")) and not (self.root / prefix).exists():
                return folder / rel[len(prefix):].lstrip("/")
        return self.root / rel

    def relative(self, path: str) -> str | None:
        """`path` as the site sees it (`content/x.md`, `themes/<name>/...`); None if foreign or ignored."""
        for folder in self.ignored:
            if _within(path, str(folder)):
                return None
        for folder, name in self.external_themes:
            if _within(path, str(folder)):
                rest = os.path.relpath(path, folder).replace(os.sep, "/")
                return f"themes/{name}" if rest == "." else f"themes/{name}/{rest}"
        if _within(path, str(self.root)):
            rel = os.path.relpath(path, self.root).replace(os.sep, "/")
            return None if rel == "." else rel
        return None


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@dataclass
class Changes:
    """One settled burst of changes: site-relative paths by kind."""

    paths: dict[str, Kind] = field(default_factory=dict)

    def add(self, rel: str, kind: Kind) -> None:
        self.paths[rel] = kind

    @property
    def kinds(self) -> set[Kind]:
        return set(self.paths.values())

    def only(self, *kinds: Kind) -> bool:
        return bool(self.paths) and self.kinds <= set(kinds)

    def describe(self, limit: int = 3) -> str:
        """`content/a.md, static/x.css and 3 more` for the terminal."""
        names = sorted(self.paths)
        shown = ", ".join(names[:limit])
        return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


Signature = tuple[int, int, bytes | None] | None
_HASH_LIMIT = 8_000_000


def signature(path: Path) -> Signature:
    """What a file holds now, cheaply: size, mtime and (for files up to 8 MB) a hash; None if gone."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return (-1, info.st_mtime_ns, None)
        digest = hashlib.blake2b(path.read_bytes(), digest_size=16).digest() if info.st_size <= _HASH_LIMIT else None
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns, digest)


def changes_from_event(event: FileSystemEvent, layout: SiteLayout) -> list[tuple[str, Kind]]:
    """The relevant (path, kind) pairs of one watchdog event; both ends of a move count."""
    if event.event_type in ("opened", "closed_no_write"):
        return []
    paths = [os.fsdecode(event.src_path)]
    if isinstance(event, FileSystemMovedEvent) and event.dest_path:
        paths.append(os.fsdecode(event.dest_path))
    found = []
    for path in paths:
        rel = layout.relative(path)
        if rel is None:
            continue
        if event.is_directory and event.event_type == "modified":
            continue  # a folder's mtime changes with every file in it: the file events say more
        kind = classify(rel)
        if event.is_directory and kind is Kind.IGNORED and rel in WATCHED_FOLDERS:
            kind = Kind.CONTENT  # content/ (or templates/ ...) itself came or went
        if kind is not Kind.IGNORED:
            found.append((rel, kind))
    return found


class Debouncer:
    """Collects changes and calls `on_settled` once they stop for `quiet` seconds; a change to one
    file alone (a person saving) waits only `single_quiet`, the moment an editor's last write takes.

    A burst of `bulk` files or more (a checkout, a copy, a search-and-replace) is a tool at
    work, not a person saving: it must stop for `bulk_quiet` seconds instead, so a busy disk
    or a loaded machine does not split it into several rebuilds. `on_first` is called when a
    burst begins (the server then holds requests until the rebuild is done). Calls run on one
    worker thread, one at a time; changes that arrive during a call make the next burst. A
    steady trickle still fires after `max_wait`.
    """

    def __init__(self, on_settled: Callable[[Changes], None], quiet: float = 0.1, max_wait: float = 3.0,
                 on_first: Callable[[], None] | None = None, bulk: int = 20, bulk_quiet: float = 0.5,
                 single_quiet: float = 0.02) -> None:
        self.on_settled = on_settled
        self.on_first = on_first
        self.quiet = quiet
        self.single_quiet = min(single_quiet, quiet)
        self.max_wait = max_wait
        self.bulk = bulk
        self.bulk_quiet = max(bulk_quiet, quiet)
        self._cond = threading.Condition()
        self._pending = Changes()
        self._first = 0.0
        self._last = 0.0
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="bitopia-debounce", daemon=True)
        self._thread.start()

    def add(self, rel: str, kind: Kind) -> None:
        with self._cond:
            now = time.monotonic()
            started = not self._pending.paths
            if started:
                self._first = now
            self._pending.add(rel, kind)
            self._last = now
            self._cond.notify_all()
        if started and self.on_first is not None:
            self.on_first()

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    if self._pending.paths:
                        now = time.monotonic()
                        count = len(self._pending.paths)
                        quiet = self.bulk_quiet if count >= self.bulk else self.quiet if count > 1 else self.single_quiet
                        due = min(self._last + quiet, self._first + self.max_wait)
                        if now >= due:
                            break
                        self._cond.wait(due - now)
                    else:
                        self._cond.wait()
                if self._stopped:
                    return
                batch, self._pending = self._pending, Changes()
            self.on_settled(batch)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: "SiteWatcher") -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.watcher.dispatch(event)


class SiteWatcher:
    """Watches content, templates, themes, static files and the config of one site."""

    def __init__(self, layout: SiteLayout, debouncer: Debouncer, poll: bool = False,
                 poll_interval: float = 0.5) -> None:
        self.layout = layout
        self.debouncer = debouncer
        self.poll_interval = poll_interval
        self.polling = poll
        self._handler = _Handler(self)
        self._watched: dict[Path, ObservedWatch] = {}
        self._lock = threading.Lock()
        self.observer: BaseObserver = self._make_observer()

    def _make_observer(self) -> BaseObserver:
        return PollingObserver(timeout=self.poll_interval) if self.polling else Observer()

    def start(self) -> None:
        """Start watching; if inotify cannot (no support, watch limit reached), poll instead."""
        try:
            self._schedule_all()
            self.observer.start()
        except OSError:
            if self.polling:
                raise
            try:
                self.observer.stop()
            except Exception:  # noqa: BLE001 - an observer that never started may refuse to stop
                pass
            self.polling = True
            self._watched.clear()
            self.observer = self._make_observer()
            self._schedule_all()
            self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        if self.observer.is_alive():
            self.observer.join(5)

    def folders(self) -> list[Path]:
        """The folders watched recursively: the site's own that exist, and outside themes."""
        found = [self.layout.root / name for name in WATCHED_FOLDERS if (self.layout.root / name).is_dir()]
        found += [folder for folder, _ in self.layout.external_themes if folder.is_dir()]
        return found

    def _schedule_all(self) -> None:
        # The root itself only for config files and for content/ etc. appearing later.
        self.observer.schedule(self._handler, str(self.layout.root), recursive=False)
        for folder in self.folders():
            self.watch(folder)

    def watch(self, folder: Path, again: bool = False) -> None:
        """Watch one more folder, recursively, once; `again` renews the watch of a folder made anew
        (a watch ends with the folder it watched)."""
        with self._lock:
            old = self._watched.get(folder)
            if old is not None:
                if not again:
                    return
                del self._watched[folder]
                self.observer.unschedule(old)
            self._watched[folder] = self.observer.schedule(self._handler, str(folder), recursive=True)

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.is_directory and event.event_type in ("created", "moved"):
            target = os.fsdecode(event.dest_path if event.event_type == "moved" else event.src_path)
            rel = self.layout.relative(target)
            if rel in WATCHED_FOLDERS and Path(target).is_dir():
                try:
                    self.watch(Path(target), again=True)
                except OSError:
                    pass  # the burst still triggers a rebuild, which reads the folder anyway
        for rel, kind in changes_from_event(event, self.layout):
            self.debouncer.add(rel, kind)

