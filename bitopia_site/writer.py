"""Write a built site into its output folder, so that a reader of the folder sees the old site or the
new one, never a mix. One type for each way of writing, chosen by `open_writer`:
- `FirstWriter`, when there is no output yet: the page renderers write into a new staging folder
  themselves (`write_page`), static files are copied into it from the start, and the staging folder
  is renamed into place.
- `StagedWriter`, when there is one: only the pages that differ from the output's files are written,
  into a staging folder made from the spare tree (spare.py), or linked from the output while the
  build reads and plans, which is then swapped in (swap.py); the old output is kept as the next
  spare. When nothing changed, nothing is touched.
- `InPlaceWriter`, for a dev server's own folder, whose readers wait while it builds: each changed
  file is replaced by one rename.
Unchanged files keep their inode and time stamps. Nothing outlives a build: the one process a
writer starts (copier.StaticCopy, spare.StageMaker) has ended when the build returns, and no tree
is left to delete.
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

from bitopia_site.copier import SENDFILE, StaticCopy, copy_file, make_folder
from bitopia_site.errors import SiteError
from bitopia_site.output_folder import (MARKER, aside_path, output_id, staging_path, sweep_leftovers,
                                        tree_files)
from bitopia_site.spare import Spare, StageMaker, keep_as_spare
from bitopia_site.swap import prune, remove, same_copy, swap_in

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WriteStats:
    written: int
    unchanged: int
    removed: int
    build_id: str = ""


def write_page(stage: str, rel: str, data: bytes, made_dirs: set[str]) -> None:
    """Write the new file `rel` into a first build's staging folder (the folders in `made_dirs` exist)."""
    _folder_of(stage, rel, made_dirs)
    _write_new(f"{stage}/{rel}", data)


def _folder_of(tree: str, rel: str, made_dirs: set[str]) -> None:
    """Make the folder `rel` goes in below `tree`, unless `made_dirs` says it was made."""
    parent = os.path.dirname(rel)
    if parent and parent not in made_dirs:
        make_folder(f"{tree}/{parent}")
        made_dirs.add(parent)


def open_writer(out: Path, previous: set[str] | None = None, spare: Spare | None = None,
                in_place: bool = False) -> SiteWriter:
    """The writer of a build into `out`: `previous` lists the output's files and `spare` says what
    the spare tree holds, when the last build's record knows; `in_place` is for a dev server."""
    out = out.resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if in_place:
            return InPlaceWriter(out, previous)
        sweep_leftovers(out)
        return StagedWriter(out, previous, spare) if os.path.lexists(out) else FirstWriter(out)
    except OSError as exc:
        raise _write_error(out, exc) from None


class SiteWriter:
    """What the three writers share: each page comes in as it is rendered (`put`), `finish` adds
    the static files and makes the new site the output, `abort` leaves the output as it was."""

    spare_after: Spare | None = None  # what the spare tree holds once the build is done

    def __init__(self, out: Path) -> None:
        self.out = out
        self.kept: set[str] = set()  # pages the output holds already, byte for byte
        self.written_paths: set[str] = set()
        self.made_dirs: set[str] = set()

    @property
    def written(self) -> int:
        return len(self.written_paths)

    def direct_folder(self) -> str | None:
        """Where the page renderers may write their pages themselves (`write_page`, then
        `put_written`); None when each page must come through `put`."""
        return None

    def copy_static_early(self, static: dict[str, Path]) -> None:
        """Start copying the static files while the pages are made, where that pays (a first build)."""

    def put(self, rel: str, data: bytes | None) -> None:
        """One rendered file; None means "the same as the file already in the output"."""
        if data is None or _same_bytes(f"{self.out}/{rel}", data):
            self.kept.add(rel)
            return
        self._guard(lambda: self._write(rel, data))
        self.written_paths.add(rel)

    def finish(self, static: dict[str, Path], static_unchanged: bool = False) -> WriteStats:
        """Add the static files and make the new site the output. With `static_unchanged`, the
        caller knows the output's copies are current: none is compared."""
        raise NotImplementedError

    def abort(self) -> None:
        """Drop what was staged; the output stays as it was."""

    def _write(self, rel: str, data: bytes) -> None:
        raise NotImplementedError

    def _guard(self, action: Callable[[], T]) -> T:
        """`action()`; an OSError drops what was staged and becomes the error a user sees."""
        try:
            return action()
        except OSError as exc:
            self.abort()
            raise _write_error(self.out, exc) from None


class FirstWriter(SiteWriter):
    """The first build into `out`: every file goes into a new staging folder. It makes no spare
    tree: the next build links its staging folder from the output while it reads and plans
    (spare.StageMaker), and a one-off build makes no tree it never uses (bench/README.md has what
    each costs). A spare left by an output deleted since is left for that build to match."""

    def __init__(self, out: Path) -> None:
        super().__init__(out)
        self.stage = str(staging_path(out))
        os.mkdir(self.stage)
        self._early: StaticCopy | None = None

    def direct_folder(self) -> str | None:
        return self.stage

    def copy_static_early(self, static: dict[str, Path]) -> None:
        """Only on Linux (SENDFILE): elsewhere a file system may ignore case, and a page and a
        static file could meet."""
        if self._early is None and SENDFILE and sys.executable:
            try:
                self._early = StaticCopy(self.stage, dict(static))
            except OSError:  # it cannot be started: no head start, finish() copies every file
                pass

    def put_written(self, rel: str, error: OSError | None = None) -> None:
        """A page that a renderer wrote into `direct_folder` itself, or the error it met doing so."""
        if error is None and self._early is not None and self._early.failed():  # fail now, not after every page
            self._guard(self._early_copies)
        self._guard(lambda: _raise(error))
        self.written_paths.add(rel)

    def _write(self, rel: str, data: bytes) -> None:
        write_page(self.stage, rel, data, self.made_dirs)

    def finish(self, static: dict[str, Path], static_unchanged: bool = False) -> WriteStats:
        """Copy the static files the early copy did not, mark the staging folder, rename it into place."""
        build_id = uuid.uuid4().hex

        def place() -> None:
            early = self._early_copies()
            for rel, source in static.items():
                if early.get(rel) != source:
                    _folder_of(self.stage, rel, self.made_dirs)
                    copy_file(source, f"{self.stage}/{rel}")
            _mark(self.stage, build_id, "replaced whole on every build")
            os.rename(self.stage, self.out)

        self._guard(place)
        self.written_paths |= static.keys()
        return WriteStats(self.written, 0, 0, build_id)

    def _early_copies(self) -> dict[str, Path]:
        """Wait for the early copy; what it copied (rel -> source). Raises the OSError it met."""
        if self._early is None:
            return {}
        error = self._early.wait()
        files, self._early = self._early.files, None  # only once it has stopped: abort() must stop one still running
        _raise(error)
        return files

    def abort(self) -> None:
        if self._early is not None:
            self._early.stop()
            self._early = None
        remove(self.stage)


class StagedWriter(SiteWriter):
    """A build over an existing output: only the files that changed are written, into a staging
    folder that starts as a copy of the output (spare.StageMaker), taken when the first one comes.
    `finish` swaps it in and keeps the old output as the next spare."""

    def __init__(self, out: Path, previous: set[str] | None, spare: Spare | None) -> None:
        super().__init__(out)
        self.previous = previous  # the output's files, when the record knows them
        self.stage: str | None = None
        self._listed: set[str] | None = None
        self.maker = StageMaker(out, spare, self._old_files)

    def _stage(self) -> str:
        if self.stage is None:
            self.stage = self.maker.folder()
        return self.stage

    def _old_files(self) -> set[str]:
        """The output's files: as the record knows them, else as they are listed (once)."""
        if self.previous is not None:
            return self.previous
        if self._listed is None:
            self._listed = tree_files(self.out) - {MARKER}
        return self._listed

    def _write(self, rel: str, data: bytes) -> None:
        _write_new(self._replaceable(rel), data)

    def _replaceable(self, rel: str) -> str:
        """The path of `rel` in the staging folder, its folder made and the output's file unlinked
        from it (never written through: that would change the output too)."""
        stage = self._stage()
        _folder_of(stage, rel, self.made_dirs)
        remove(f"{stage}/{rel}")
        return f"{stage}/{rel}"

    def finish(self, static: dict[str, Path], static_unchanged: bool = False) -> WriteStats:
        """Change nothing when nothing changed; else stage the static files that changed, prune the
        files gone, mark the staging folder, swap it in and keep the old output as the spare."""
        out = str(self.out)
        copies = {} if static_unchanged and self.previous is not None else {
            rel: source for rel, source in static.items()
            # the output's files linked into the staging folder since `begun_ns` have a new ctime
            if not same_copy(f"{out}/{rel}", source, self.maker.begun_ns)}
        paths = self.kept | static.keys() | self.written_paths
        if self.stage is None and self.previous == paths and not copies:
            self.maker.set_aside()
            return WriteStats(0, len(paths), 0, output_id(self.out))
        gone: set[str] = set()
        build_id = uuid.uuid4().hex

        def place() -> None:
            gone.update(self._old_files() - paths)
            stage = self._stage()
            for rel in gone:
                prune(stage, rel)
            for rel, source in copies.items():
                copy_file(source, self._replaceable(rel))
            _mark(stage, build_id, "replaced whole on every build")

        self._guard(place)
        self.written_paths |= copies.keys()
        old_id = output_id(self.out)
        old = self._guard(lambda: swap_in(Path(self._stage()), self.out, aside_path(self.out)))
        self.stage = None
        if old is not None:
            self.spare_after = keep_as_spare(old, self.out, old_id, self.written_paths | gone)
        return WriteStats(self.written, len(paths) - self.written, len(gone), build_id)

    def abort(self) -> None:
        """A staging folder written into is deleted (it may hold a file cut short by a full disk);
        one only linked from the output is kept as the spare (spare.StageMaker.set_aside)."""
        if self.stage is not None:
            remove(self.stage)
            self.stage = None
        else:
            self.maker.set_aside()


class InPlaceWriter(SiteWriter):
    """Writes into the output itself, each changed file replaced by one rename: for a dev server's
    own folder, whose readers wait while it builds. No staging folder, no spare."""

    def __init__(self, out: Path, previous: set[str] | None = None) -> None:
        super().__init__(out)
        self.previous = previous

    def _write(self, rel: str, data: bytes) -> None:
        self._replace(rel, lambda temp: temp.write_bytes(data))

    def put_file(self, rel: str, source: Path) -> None:
        """Copy one static file into the output."""
        self._guard(lambda: self._replace(rel, lambda temp: copy_file(source, str(temp))))
        self.written_paths.add(rel)

    def _replace(self, rel: str, make: Callable[[Path], object]) -> None:
        """Make a new file beside `rel` and rename it over `rel`, so no reader sees half of it."""
        target = self.out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.parent / f".{target.name}.{os.getpid()}.tmp"
        make(temp)
        os.replace(temp, target)

    def finish(self, static: dict[str, Path], static_unchanged: bool = False) -> WriteStats:
        for rel, source in static.items():
            if not same_copy(self.out / rel, source):
                self.put_file(rel, source)
        paths = self.kept | static.keys() | self.written_paths
        gone = (self.previous if self.previous is not None else tree_files(self.out)) - paths - {MARKER}
        for rel in gone:
            prune(self.out, rel)
        build_id = uuid.uuid4().hex
        self._guard(lambda: _mark(str(self.out), build_id, "updated in place"))
        return WriteStats(self.written, len(paths) - self.written, len(gone), build_id)


def _mark(folder: str, build_id: str, how: str) -> None:
    """Write the marker that makes `folder` an output of the build `build_id`. The marker there may
    be a hard link another tree shares: it is replaced, never written through."""
    remove(f"{folder}/{MARKER}")
    Path(folder, MARKER).write_text(f"made by bitopia; {how}\n{build_id}\n")


def _write_new(path: str, data: bytes) -> None:
    """Write a file with three system calls (open, write, close), as open(path, "wb") would."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view):]
    finally:
        os.close(handle)


def _same_bytes(old: str, data: bytes) -> bool:
    try:
        if os.stat(old).st_size != len(data):
            return False
        with open(old, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def _raise(error: OSError | None) -> None:
    if error is not None:
        raise error


def _write_error(out: Path, exc: OSError) -> SiteError:
    """The error a user sees when the site cannot be written."""
    return SiteError(str(out), f"cannot write the site: {exc.strerror or exc}",
                     "free some disk space or fix the folder's permissions; the previous output is untouched")
