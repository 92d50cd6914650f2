"""`bitopia serve`: build into a folder of its own, serve it, watch the site, reload browsers."""

from __future__ import annotations

import ctypes
import gc
import ipaddress
import queue
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Callable, Collection, Mapping, Protocol, Sequence

from bitopia_site.errors import BuildFailed, SiteError
from bitopia_site.serve.errorpage import render_error_page
from bitopia_site.serve.handler import SCRIPT_TAG, WILDCARDS, DevHTTPServer
from bitopia_site.serve.live import Background, BuildEvent, BuildGate, EventHub, ServeState
from bitopia_site.serve.watcher import (Changes, Debouncer, Kind, Signature, SiteLayout, SiteWatcher, signature,
                                        static_url)
from bitopia_site.wording import plural

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; each server then builds into a temp folder
    fcntl = None  # type: ignore[assignment]

SERVE_FOLDER = Path(".bitopia-cache") / "serve"
EARLY_HEAD_START = 0.3  # seconds the rest of an update waits for browsers to fetch the pages reloaded early
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
Log = Callable[[str, bool], None]


class Page(Protocol):
    path: str  # where the page is written, below the serve folder


class Stats(Protocol):
    written: int
    removed: int


class Summary(Protocol):
    """What the server reports of a build."""

    pages: int
    stats: Stats
    warnings: Sequence[SiteError]


class Builder(Protocol):
    """What the server needs of whatever builds the site (`incremental.LiveBuild` is one): it
    knows nothing else of the site. A build that fails raises BuildFailed or SiteError."""

    def build(self) -> Summary:
        """Build the whole site (pages whose inputs did not change may be kept)."""

    def update(self, files: Mapping[str, Path], first: Collection[str] = (),
               early: Callable[[set[str], set[str]], None] | None = None) -> Summary | None:
        """Apply edits to `files` (site-relative name -> file), or return None: a whole build is
        needed. It may write the pages of `first` (files below the serve folder) before the rest:
        then it calls `early` with those that changed and the files that are final (may be served)."""

    def url_of(self, rel: str) -> str | None:
        """The URL of the page the content file `rel` made in the last build, if it made one."""

    def theme_folders(self) -> list[tuple[Path, str]]:
        """The theme folders outside the site to watch too, with the themes' names."""

    def background(self) -> Callable[[], Callable[[], None] | None] | None:
        """Slow work for the site as built now, to run off the build lock (a search index), which
        returns the step that puts its result in the serve folder (run under the lock, and only if
        no build came since) or None when there is nothing to put; None when there is no work."""

    def close(self) -> None:
        """The server stops: keep what the next server can start from."""


# Given the serve folder, the server's URL and what to do to each page before it is written
# (put the live-reload script in), the builder that serves there.
MakeBuilder = Callable[[Path, str, Callable[[Page, str], str]], Builder]


def inject_livereload(page: Page, text: str) -> str:
    """Put the live-reload script before the last `</body>` of an HTML page (or at its end)."""
    if not page.path.endswith((".html", ".htm")):
        return text
    matches = list(_BODY_END.finditer(text))
    if not matches:
        return text + SCRIPT_TAG + "\n"
    at = matches[-1].start()
    return text[:at] + SCRIPT_TAG + "\n" + text[at:]


def _quiet_log(text: str, error: bool = False) -> None:
    pass


class DevServer:
    """Builds `root` into its serve folder, serves it over HTTP and rebuilds on every change.

    Browsers learn of each build over Server-Sent Events; while a build is due or running,
    requests wait; while the site does not build, every page is an error page.
    """

    def __init__(self, root: Path, builder: MakeBuilder, *, host: str = "127.0.0.1", port: int = 8000,
                 out: Path | None = None, poll: bool = False, navigate: bool = False, debounce: float = 0.1,
                 log: Log = _quiet_log) -> None:
        self.root = Path(root).resolve()
        self.host = host
        self.navigate = navigate
        self.log = log
        self.gate = BuildGate()
        self.hub = EventHub()
        self.builds = 0  # builds run, the first one included
        self.skipped = 0  # bursts of events that changed no file since the last build
        self._signatures: dict[str, Signature] = {}
        self.last_seconds = 0.0  # how long the latest build took
        self.build_started = 0.0
        self._instance = secrets.token_hex(3)
        self.state = ServeState(token=f"{self._instance}-0")
        self._build_lock = threading.Lock()
        self._early: tuple[str, frozenset[str]] | None = None  # during an update: its token, the files final already
        self._fetched = threading.Condition()
        self._early_fetches: set[str] = set()  # the files served early since the reload was sent
        self._lock_file: IO[str] | None = None
        self._temp_out: Path | None = None
        self.out = out.resolve() if out is not None else self._serve_folder()
        try:
            self.httpd = DevHTTPServer((host, port), self)
        except OSError:
            self._release_folder()
            raise
        self.port = self.httpd.server_address[1]
        self.urls = listen_urls(host, self.port)
        self.url = self.urls[0]  # the one pages link to
        self.exposed = not _is_loopback(self.httpd.server_address[0])
        # Requests wait while a build runs, so the builder may update the serve folder file by file.
        self.builder = builder(self.out, self.url, inject_livereload)
        self.changed_at = 0.0  # perf_counter() when the latest burst of changes was first seen
        self.debouncer = Debouncer(self._rebuild, quiet=debounce, on_first=self._changes_began)
        self.background = Background(self._background_work)
        self.watcher = SiteWatcher(self._layout(), self.debouncer, poll=poll)
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="bitopia-http", daemon=True)
        self._started = False

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> "DevServer":
        """Serve at once (requests wait for the first build), watch, then build."""
        self._thread.start()
        self._started = True
        self.watcher.start()
        self._rebuild(None)
        return self

    def close(self) -> None:
        """Stop watching and serving; end every event stream; release the serve folder."""
        self.watcher.stop()
        self.debouncer.stop()
        self.background.close()
        self.hub.close()
        if self._started:
            self.httpd.shutdown()
        self.httpd.server_close()
        with self._build_lock:
            self.builder.close()
        self._release_folder()

    def _release_folder(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
        if self._temp_out is not None:
            shutil.rmtree(self._temp_out, ignore_errors=True)

    def __enter__(self) -> "DevServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the HTTP side sees (handler.Served) --------------------------------------------

    @property
    def folder(self) -> Path:
        return self.out

    def settled(self, timeout: float, route: str = "/") -> ServeState:
        """Wait (up to `timeout` seconds) while a build is due or running, but for a file the running
        update has made final (the page a browser shows, rendered first); then what requests see."""
        early = self._early
        if early is not None and page_file(route) in early[1]:
            with self._fetched:
                self._early_fetches.add(page_file(route))
                self._fetched.notify_all()
            return ServeState(early[0])
        self.gate.wait(timeout)
        return self.state

    def subscribe(self, page: str = "") -> queue.Queue[BuildEvent | None]:
        return self.hub.subscribe(page)

    def unsubscribe(self, inbox: queue.Queue[BuildEvent | None]) -> None:
        self.hub.unsubscribe(inbox)

    def catch_up(self, seen: str) -> BuildEvent | None:
        """The event to send at once to a page showing the build `seen`, when a later one is served."""
        latest = self.state.latest_event
        if seen and latest is not None and seen != latest.build and not self.gate.busy:
            return latest.stale_for(seen)
        return None

    # -- building ---------------------------------------------------------------------------

    def _changes_began(self) -> None:
        self.changed_at = time.perf_counter()
        self.gate.hold()

    def _rebuild(self, changes: Changes | None) -> None:
        """Build once; publish the result to browsers; never raises for a broken site."""
        with self._build_lock:
            if changes is not None and not self._changed_since_last_build(changes):
                self.skipped += 1
                self.gate.release()
                return
            self.gate.hold()
            started = time.perf_counter()
            errors: list[SiteError] = []
            summary = ""
            try:
                result = None
                if changes is not None:
                    layout = self.watcher.layout
                    shown = {page_file(page): page for page in self.hub.pages()}
                    token = f"{self._instance}-{self.builds + 1}"

                    def early(changed: set[str], final: set[str]) -> None:
                        """The pages browsers show are made: serve them, and reload the browsers showing them."""
                        with self._fetched:
                            self._early_fetches.clear()
                        self._early = (token, frozenset(final))
                        pages = {file: page for file, page in shown.items() if file in changed}
                        self.hub.publish(BuildEvent(token, self.state.token, True), set(pages.values()))
                        with self._fetched:  # the rest of the update would slow their loading: let them in first
                            self._fetched.wait_for(lambda: pages.keys() <= self._early_fetches, EARLY_HEAD_START)

                    result = self.builder.update({rel: layout.absolute(rel) for rel in changes.paths}, list(shown),
                                                 early)
                updated = result is not None  # its warnings are the edited files' own: worth saying each time
                if result is None:
                    result = self.builder.build()
                stats = result.stats
                summary = (f"{result.pages} pages, {stats.written} written, {stats.removed} removed"
                           + (f", {plural(len(result.warnings), 'warning')}" if result.warnings else ""))
                for warning in result.warnings if changes is None or updated else []:
                    self.log("warning: " + warning.format(), False)
            except BuildFailed as failed:
                errors = failed.errors
            except SiteError as err:
                errors = [err]
            except Exception as exc:  # noqa: BLE001 - a bug in bitopia must not stop the preview
                errors = [SiteError(None, f"bitopia failed while building: {type(exc).__name__}: {exc}",
                                    "this is a bug in bitopia; please report it with the file you changed")]
            self.build_started = started
            self.last_seconds = time.perf_counter() - started
            self.builds += 1
            before = self.state
            token = f"{self._instance}-{self.builds}"
            ok = not errors
            event = BuildEvent(token, before.token, ok, self._css_only(changes, before) if ok else (),
                               self._navigate_to(changes) if ok else None)
            error_page = None if ok else render_error_page(errors, self.root, SCRIPT_TAG)
            self.state = ServeState(token, error_page, tuple(errors), event)
            self._early = None
            self.gate.release()
            self.hub.publish(event)
            self._report(changes, errors, summary)
            if changes is not None and Kind.CONFIG in changes.kinds:
                self._refresh_watch()
        self._tidy_later(self.builds)
        self.background.ask(self.builds)

    def _background_work(self, builds: int) -> None:
        """The builder's slow work after build number `builds`, off the build lock: a save is
        never kept waiting by it; its result is dropped if another build came meanwhile (that
        build asked for its own). A failure is logged: the pages themselves are fine."""
        with self._build_lock:
            job = self.builder.background() if self.builds == builds else None
        if job is None:
            return
        try:
            place = job()
            if place is not None:
                with self._build_lock:
                    if self.builds == builds:
                        place()
        except SiteError as err:
            self.log("warning: " + err.format(), False)
        except Exception as exc:  # noqa: BLE001 - a bug in bitopia must not stop the preview
            self.log(f"warning: bitopia failed after a build: {type(exc).__name__}: {exc}", False)

    def _tidy_later(self, builds: int) -> None:
        """A moment after build number `builds`, if no other has begun, hand the memory builds freed
        back to the system (a cycle collection, then the C heap trimmed): a long session of edits
        does not keep the memory of every peak. Never during a build, never delaying a reload."""
        def tidy() -> None:
            with self._build_lock:
                if self.builds == builds and not self.gate.busy:
                    gc.collect()
                    _trim_heap()
        timer = threading.Timer(TIDY_AFTER, tidy)
        timer.daemon = True
        timer.start()

    def _changed_since_last_build(self, changes: Changes) -> bool:
        """False when every file named is as the last build read it: a late or repeated event
        (an editor's close after its write, say) must not cost a second build."""
        layout = self.watcher.layout
        now = {rel: signature(layout.absolute(rel)) for rel in changes.paths}
        changed = any(rel not in self._signatures or self._signatures[rel] != sig for rel, sig in now.items())
        self._signatures.update(now)
        return changed

    def _report(self, changes: Changes | None, errors: list[SiteError], summary: str) -> None:
        what = "Built" if changes is None else f"Rebuilt after {changes.describe()}:"
        if errors:
            for err in errors:
                self.log("error: " + err.format(), True)
            self.log(f"{what} failed with {plural(len(errors), 'error')} "
                     f"in {self.last_seconds:.2f} s; the browser shows them until the next good build", True)
        else:
            self.log(f"{what} {summary} in {self.last_seconds:.2f} s", False)

    @staticmethod
    def _css_only(changes: Changes | None, before: ServeState) -> tuple[str, ...]:
        """Stylesheet URLs when only stylesheets changed and the last build was good: swap, don't reload."""
        if changes is None or before.error_page is not None or not changes.only(Kind.STATIC):
            return ()
        if not all(rel.lower().endswith(".css") for rel in changes.paths):
            return ()
        return tuple(sorted({url for rel in changes.paths if (url := static_url(rel))}))

    def _navigate_to(self, changes: Changes | None) -> str | None:
        """With --navigate, the URL of the one post or page just edited (if it is in the site)."""
        if not self.navigate or changes is None:
            return None
        edited = [rel for rel, kind in changes.paths.items() if kind is Kind.CONTENT and (self.root / rel).is_file()]
        if len(edited) != 1:
            return None
        return self.builder.url_of(edited[0])

    # -- folders ----------------------------------------------------------------------------

    def _serve_folder(self) -> Path:
        """SITE/.bitopia-cache/serve, locked for this server; a temp folder if it is taken or read-only."""
        folder = self.root / SERVE_FOLDER
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            if fcntl is not None:
                handle = open(folder.parent / "serve.lock", "w")
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    handle.close()
                    raise
                self._lock_file = handle
                return folder
        except OSError:
            pass
        self._temp_out = Path(tempfile.mkdtemp(prefix="bitopia-serve-"))
        return self._temp_out / "site"

    def _layout(self) -> SiteLayout:
        """The site's folders, with theme folders outside it (the packaged theme) watched too."""
        ignored = (self.out,) if self.out.is_relative_to(self.root) else ()
        return SiteLayout(self.root, tuple(self.builder.theme_folders()), ignored)

    def _refresh_watch(self) -> None:
        """After a config change the theme may be another: watch its folders too."""
        layout = self._layout()
        self.watcher.layout = layout
        for folder in self.watcher.folders():
            try:
                self.watcher.watch(folder)
            except OSError as exc:
                self.log(f"warning: {folder}: cannot watch: {exc.strerror or exc}", True)


TIDY_AFTER = 1.0  # seconds after a build before its freed memory is handed back


def _trim_heap() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim; nothing elsewhere)."""
    trim = getattr(_C_LIBRARY, "malloc_trim", None)
    if trim is not None:
        trim(0)


try:
    _C_LIBRARY: ctypes.CDLL | None = ctypes.CDLL(None)  # the process's own symbols, the C library's among them
except OSError:
    _C_LIBRARY = None


def page_file(route: str) -> str:
    """The file below the serve folder that answers the URL path `route` ('/a/' -> 'a/index.html')."""
    path = route.lstrip("/")
    return path + "index.html" if path == "" or path.endswith("/") else path


def listen_urls(host: str, port: int) -> list[str]:
    """The URLs a server listening on `host` is opened at: loopback first, then the machine's name
    when it listens on every address."""
    host = host.strip("[]")
    names = [("::1" if ":" in host else "127.0.0.1"), socket.gethostname()] if host in WILDCARDS else [host]
    return list(dict.fromkeys(f"http://{f'[{n}]' if ':' in n else n}:{port}/" for n in names))


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False

