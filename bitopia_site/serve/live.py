"""Shared state of the dev server: what requests see, the build gate, the Server-Sent Events hub
and the work done after a build."""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Collection

from bitopia_site.errors import SiteError


@dataclass(frozen=True)
class BuildEvent:
    """What browsers are told after a build: reload, swap stylesheets, or go to a page."""

    build: str  # the token of the build now served
    after: str  # the token of the build before it
    ok: bool
    css: tuple[str, ...] = ()  # only stylesheets changed: their URLs
    navigate: str | None = None
    sent: float = field(default_factory=time.time)

    def message(self) -> str:
        """The event in SSE wire format."""
        data = json.dumps({"build": self.build, "after": self.after, "ok": self.ok, "css": list(self.css),
                           "navigate": self.navigate, "sent": self.sent})
        return f"event: build\ndata: {data}\n\n"

    def stale_for(self, seen: str) -> "BuildEvent":
        """The event for a page that shows an older build `seen`: reload it whole."""
        return replace(self, after=seen, css=(), navigate=None)


@dataclass(frozen=True)
class ServeState:
    """What requests see; replaced whole after each build."""

    token: str  # the build served now
    error_page: bytes | None = None  # set while the site does not build
    errors: tuple[SiteError, ...] = ()  # the errors shown on it
    latest_event: BuildEvent | None = None


class BuildGate:
    """Holds requests while a build is due or running, so nobody sees a half-built site."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = True  # until the first build is done

    def hold(self) -> None:
        """Changes arrived: requests wait from now until `release`."""
        with self._cond:
            self._busy = True

    def release(self) -> None:
        """A build finished (well or not), or was not needed: let requests through."""
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        return self._busy

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no build is due; False if `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy, timeout)


class EventHub:
    """Fans build events out to every connected browser; each has its own queue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[queue.Queue[BuildEvent | None], str] = {}  # inbox -> the URL path its page shows
        self.closed = False

    def subscribe(self, page: str = "") -> queue.Queue[BuildEvent | None]:
        q: queue.Queue[BuildEvent | None] = queue.Queue()
        with self._lock:
            if self.closed:
                q.put(None)
            self._clients[q] = page
        return q

    def unsubscribe(self, q: queue.Queue[BuildEvent | None]) -> None:
        with self._lock:
            self._clients.pop(q, None)

    def pages(self) -> set[str]:
        """The URL paths the connected browsers show."""
        with self._lock:
            return {page for page in self._clients.values() if page}

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._clients)

    def publish(self, event: BuildEvent, pages: Collection[str] | None = None) -> None:
        """Send `event` to every browser, or to those showing one of `pages` (URL paths)."""
        with self._lock:
            for q, page in self._clients.items():
                if pages is None or page in pages:
                    q.put(event)

    def close(self) -> None:
        """End every open event stream (the server is stopping)."""
        with self._lock:
            self.closed = True
            for q in self._clients:
                q.put(None)


class Background:
    """The builder's slow work after a build (a search index), on a thread of its own, one job at
    a time and always for the newest build: builds asked for while a job runs are folded into one."""

    def __init__(self, work: Callable[[int], None]) -> None:
        self._work = work
        self._wanted: int | None = None
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="bitopia-background", daemon=True)
        self._thread.start()

    def ask(self, builds: int) -> None:
        """Do the work of build number `builds` (unless a newer one is asked for first)."""
        with self._changed:
            self._wanted = builds
            self._changed.notify()

    def close(self) -> None:
        """Take no more work; a job running ends on its own (its results are dropped: see DevServer)."""
        with self._changed:
            self._closed = True
            self._changed.notify()

    def _loop(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._closed or self._wanted is not None)
                if self._closed:
                    return
                builds, self._wanted = self._wanted, None
            assert builds is not None
            self._work(builds)
