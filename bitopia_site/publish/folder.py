"""Folder target: TARGET is a symlink to TARGET.releases/<build-id>/, replaced by one atomic rename.

Layout beside the target:
    blog -> blog.releases/0007-20260101T120000Z-1a2b3c4d     (the live release)
    blog.releases/0006-…/  0007-…/                           (complete releases, newest last)
    blog.releases/.partial-0008-…/                           (being written; never served)
    blog.releases/0005-….rolled-back/                        (left by --rollback until the next publish)
    blog.releases/.lock                                      (one publish at a time)
    blog.releases/.history                                   (each release that went live, and when)
    blog.releases/.written                                   (each release publish wrote)

A release folder gets its final name only once all its files are written and synced, so a publish
killed at any point leaves the previous release live; the next publish removes what it left.
Publish deletes only releases listed in .written: a folder converted into a release (an old output
of `bitopia build`, the only kind --convert moves) or put there by hand is left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from bitopia_site.errors import SiteError
from bitopia_site.output_folder import MARKER, check_clear_of_site
from bitopia_site.publish.production import Changes, Log, Production, compare, files_below, stamp, unstamp
from bitopia_site.swap import remove, same_copy, swap_in, sync
from bitopia_site.wording import plural

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; publishes are then not serialized
    fcntl = None  # type: ignore[assignment]

PAUSE_ENV = "BITOPIA_PUBLISH_PAUSE"  # test hook: seconds to sleep once half the release is written
_RELEASE = re.compile(r"^(\d{4,})-[0-9A-Za-z-]+$")
ROLLED_BACK = ".rolled-back"
PARTIAL = ".partial-"
HISTORY = ".history"
WRITTEN = ".written"


class FolderTarget:
    """Publishes releases into `<target>.releases/` and points the `target` symlink at one."""

    def __init__(self, target: Path, log: Log, keep: int = 5) -> None:
        self.target = Path(os.path.abspath(target))
        self.releases = self.target.parent / f"{self.target.name}.releases"
        self.log = log
        self.keep = max(keep, 1)
        self._link_tmp = self.target.parent / f".{self.target.name}.bitopia-link"

    # -- what is there --------------------------------------------------------------------------

    def kind(self) -> str:
        """'missing', 'release' (our symlink), 'link' (someone else's symlink), 'folder' or 'file'."""
        if os.path.islink(self.target):
            return "release" if self.live() is not None else "link"
        if not os.path.lexists(self.target):
            return "missing"
        return "folder" if self.target.is_dir() else "file"

    def live(self) -> str | None:
        """The name of the release the target points at, if it points into our releases folder."""
        try:
            dest = os.readlink(self.target)
        except OSError:
            return None
        head, _, name = dest.rstrip("/").rpartition("/")
        if head in (self.releases.name, str(self.releases)) and _RELEASE.match(name):
            return name
        return None

    def release_names(self) -> list[str]:
        """Complete releases, oldest first (by sequence number)."""
        if not self.releases.is_dir():
            return []
        names = [n for n in os.listdir(self.releases) if _RELEASE.match(n) and (self.releases / n).is_dir()]
        return sorted(names, key=_seq)

    def describe(self) -> str:
        live = self.live()
        return f"{self.target} -> {self.releases.name}/{live}" if live else str(self.target)

    # -- publish ------------------------------------------------------------------------------

    def publish(self, prod: Production, convert: bool = False) -> str:
        """Write `prod` as a new release and make it live; return the live release's name."""
        kind = self.check_target(convert, prod.site.config.root)
        if kind == "missing" and not self.target.parent.is_dir():
            self.target.parent.mkdir(parents=True)
            self.log(f"created {self.target.parent}")
        self.releases.mkdir(parents=True, exist_ok=True)
        with self._locked():
            self._clean_up()
            live = self.live()
            if live is not None and live.endswith(f"-{prod.digest[:8]}") and kind == "release":
                self.log(f"nothing to publish: the live release {live} holds exactly this build")
                self.log(f"live: {live} ({self.describe()})")
                return live
            seq = max([_seq(n) for n in self._all_names()] + [0]) + 1
            old_name = None
            if kind == "folder":
                old_name = f"{seq:04d}-{_stamp_time(datetime.now(timezone.utc))}-converted"
                seq += 1
            name = f"{seq:04d}-{_stamp_time(prod.built_at)}-{prod.digest[:8]}"
            self._write_release(name, prod, live)
            if kind == "folder":
                assert old_name is not None
                self._convert(name, old_name)
            else:
                self._point_at(name)
                if kind == "link":
                    self.log(f"replaced the symlink {self.target}; what it pointed to is left as it was")
            self._prune(name)
        self.log(f"live: {name} ({self.describe()})")
        return name

    def rollback(self) -> str:
        """Point the target back at the release before the live one; return its name."""
        if self.kind() != "release":
            raise SiteError(self.target, "is not a release made by bitopia publish, so there is nothing to roll back",
                            "publish to it first")
        with self._locked():
            self._clean_up()
            live = self.live()
            assert live is not None
            earlier = [n for n in self.release_names() if _seq(n) < _seq(live)]
            if not earlier:
                raise SiteError(self.target, f"the live release {live} is the oldest one kept",
                                f"there is nothing to roll back to in {self.releases}")
            previous = earlier[-1]
            self._point_at(previous)
            os.rename(self.releases / live, self.releases / (live + ROLLED_BACK))
            self.log(f"rolled back from {live}; kept as {live}{ROLLED_BACK} until the next publish")
        self.log(f"live: {previous} ({self.describe()})")
        return previous

    def changes(self, prod: Production) -> Changes:
        """What publishing `prod` would add, change and remove against the live release (or folder)."""
        kind = self.kind()
        if kind == "release":
            current = self.releases / (self.live() or "")
        elif kind in ("folder", "link"):
            current = self.target
        else:
            current = None
        old = files_below(current) if current is not None and current.is_dir() else {}

        def same(path: str, data: bytes | Path) -> bool:
            old_path = old[path]
            if isinstance(data, Path):
                return same_copy(old_path, data)
            return unstamp(old_path.read_bytes()) == data

        return compare(prod.files, old, same)

    # -- steps --------------------------------------------------------------------------------

    def check_target(self, convert: bool, site: Path) -> str:
        """The target's kind, or a SiteError if it cannot take a release (checked before building, too)."""
        hint = "publish to a folder of its own, outside the site's sources and build outputs, e.g. /var/www/blog"
        check_clear_of_site(self.target, site, "publish target", hint)
        check_clear_of_site(self.releases, site, "releases folder", hint)
        output = next((p for p in self.releases.resolve().parents if (p / MARKER).is_file()), None)
        if output is not None:
            raise SiteError(self.target, f"is inside {output}, an output folder of `bitopia build`, which the next "
                            "build or `bitopia clean` replaces whole", hint)
        kind = self.kind()
        hint_convert = (f"run `bitopia publish --convert {self.target}`: it keeps the folder as the first release "
                        f"in {self.releases.name}/ and puts a symlink in its place; nothing is deleted")
        if kind == "file":
            raise SiteError(self.target, "is a file, not a folder", "choose a folder to publish to")
        if kind == "folder" and any(self.target.iterdir()) and not (self.target / MARKER).is_file():
            raise SiteError(self.target, f"is a folder bitopia did not make (it has no {MARKER}), so publish will "
                            "not move it", "publish to a new or empty folder, or move these files away yourself")
        if kind == "folder" and not convert:
            raise SiteError(self.target, "is a plain folder; publish keeps releases beside it and makes it a symlink",
                            hint_convert)
        if kind == "link" and not convert:
            raise SiteError(self.target, f"is a symlink to {os.readlink(self.target)}, not to a release in "
                            f"{self.releases.name}/", "run with --convert to replace the link (what it points to "
                            "is left as it is), or choose another target")
        if kind == "folder" and os.path.ismount(self.target):
            raise SiteError(self.target, "is a mount point, which cannot be replaced by a symlink",
                            "publish to a folder inside it and point the web server there")
        return kind

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the releases folder's lock: one publish or rollback at a time."""
        if fcntl is None:  # pragma: no cover
            yield
            return
        with open(self.releases / ".lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.log(f"waiting for another publish to {self.target} to finish")
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _all_names(self) -> list[str]:
        return [n.removesuffix(ROLLED_BACK) for n in os.listdir(self.releases)
                if _RELEASE.match(n.removesuffix(ROLLED_BACK))]

    def _clean_up(self) -> None:
        """Remove what an interrupted publish left: partial releases, a temporary link, unused releases."""
        if os.path.lexists(self._link_tmp):
            os.unlink(self._link_tmp)
            self.log(f"removed {self._link_tmp.name}, left by an interrupted publish")
        written = self._written()
        for name in sorted(os.listdir(self.releases)):
            if name.startswith(PARTIAL) and name[len(PARTIAL):] in written:
                remove(self.releases / name)
                self.log(f"removed the partial release {name}, left by an interrupted publish")
        live = self.live()
        if live is None:
            return
        went_live = self._history()
        for name in self.release_names():
            if _seq(name) > _seq(live) and name not in went_live and name in written:
                remove(self.releases / name)
                self.log(f"removed the release {name}, which never went live (an interrupted publish)")

    def _history(self) -> set[str]:
        try:
            lines = (self.releases / HISTORY).read_text(encoding="utf-8").splitlines()
        except OSError:
            return set()
        return {line.split()[-1] for line in lines if line.strip()}

    def _written(self) -> set[str]:
        """The releases publish wrote that are still there (whole, partial or rolled back): the only ones it deletes."""
        try:
            names = set((self.releases / WRITTEN).read_text(encoding="utf-8").split())
        except OSError:
            return set()
        there = {n.removeprefix(PARTIAL).removesuffix(ROLLED_BACK) for n in os.listdir(self.releases)}
        return names & there

    def _note_written(self, names: set[str]) -> None:
        """Write the list of releases publish wrote (each is added before its first file is written)."""
        path = self.releases / WRITTEN
        tmp = path.with_name(WRITTEN + ".tmp")
        tmp.write_text("".join(f"{n}\n" for n in sorted(names, key=_seq)), encoding="utf-8")
        os.replace(tmp, path)

    def _record(self, name: str) -> None:
        """Note that `name` went live (kept short: the last 200 switches)."""
        path = self.releases / HISTORY
        try:
            lines = path.read_text(encoding="utf-8").splitlines()[-199:]
        except OSError:
            lines = []
        lines.append(f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ} {name}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _write_release(self, name: str, prod: Production, live: str | None) -> None:
        """Write every file into .partial-<name>, sync, then give the folder its final name."""
        partial = self.releases / f"{PARTIAL}{name}"
        previous = self.releases / live if live else None
        self._note_written(self._written() | {name})
        partial.mkdir()
        self.log(f"writing release {name} into {partial}")
        try:
            linked = self._fill(partial, prod, previous, name)
            written = files_below(partial)
            if written.keys() != prod.files.keys():
                missing = sorted(prod.files.keys() - written.keys())[:3]
                raise SiteError(partial, f"the release is incomplete on disk (missing {', '.join(missing)})",
                                "check the disk; the live release is untouched")
            sync(partial)
            os.rename(partial, self.releases / name)
        except BaseException as exc:
            remove(partial)
            with suppress(OSError):
                self._note_written(self._written())  # without this release, now gone
            if isinstance(exc, OSError):
                raise SiteError(partial, f"cannot write the release: {exc.strerror or exc}",
                                "free some disk space or fix the folder's permissions; the live release is untouched"
                                ) from None
            raise
        reused = f", {linked} unchanged static files hard-linked from {live}" if linked else ""
        self.log(f"wrote release {name}: {len(prod.files)} files{reused}")

    def _fill(self, partial: Path, prod: Production, previous: Path | None, name: str) -> int:
        """Write every file of the release; unchanged static files are hard links to the live release's."""
        pause = float(os.environ.get(PAUSE_ENV) or 0)
        made: set[str] = set()
        linked = 0
        total = len(prod.files)
        for number, (path, data) in enumerate(sorted(prod.files.items()), 1):
            dest = partial / path
            parent = os.path.dirname(path)
            if parent and parent not in made:
                os.makedirs(dest.parent, exist_ok=True)
                made.add(parent)
            if isinstance(data, Path):
                old = previous / path if previous else None
                if old is not None and same_copy(old, data):
                    os.link(old, dest)
                    linked += 1
                else:
                    shutil.copy2(data, dest)
            else:
                dest.write_bytes(stamp(path, data, name))
            if pause and number == total // 2:
                self.log(f"pausing {pause:g} s after {number} of {total} files ({PAUSE_ENV})")
                time.sleep(pause)
        return linked

    def _point_at(self, name: str) -> None:
        """Replace the target symlink by one pointing at `name`, in one rename."""
        if os.path.lexists(self._link_tmp):
            os.unlink(self._link_tmp)
        os.symlink(f"{self.releases.name}/{name}", self._link_tmp)
        os.replace(self._link_tmp, self.target)
        _fsync_dir(self.target.parent)
        self._record(name)
        self.log(f"switched {self.target} to {self.releases.name}/{name}")

    def _convert(self, name: str, old_name: str) -> None:
        """Swap the plain folder for a symlink to `name`; keep the folder as release `old_name`."""
        os.symlink(f"{self.releases.name}/{name}", self._link_tmp)
        kept = self.releases / old_name
        old = swap_in(self._link_tmp, self.target, kept)
        if old is not None and old != kept:  # exchanged: the old folder is at the symlink's temporary name
            os.rename(old, kept)
        _fsync_dir(self.target.parent)
        self._record(old_name)
        self._record(name)
        self.log(f"converted {self.target}: the old folder is kept as release {old_name}, "
                 f"the target now links to {self.releases.name}/{name}")
        self.log(f"publish never deletes {self.releases.name}/{old_name}: delete it yourself once you no longer "
                 "need it")

    def _prune(self, live: str) -> None:
        """Keep the newest `keep` releases (the live one always); drop rolled-back ones; only those publish wrote."""
        written = self._written()
        doomed = [n for n in self.release_names()[:-self.keep] if n != live]
        doomed += sorted(n for n in os.listdir(self.releases) if n.endswith(ROLLED_BACK))
        left = [n for n in doomed if n.removesuffix(ROLLED_BACK) not in written]
        doomed = [n for n in doomed if n not in left]
        for name in doomed:
            remove(self.releases / name)
        if doomed:
            self.log(f"removed {plural(len(doomed), 'old release')}: {', '.join(doomed)}")
        if left:
            self.log(f"left {', '.join(left)} in {self.releases.name}/: publish deletes only the releases it wrote")


def _seq(name: str) -> int:
    match = _RELEASE.match(name)
    return int(match.group(1)) if match else -1


def _stamp_time(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
