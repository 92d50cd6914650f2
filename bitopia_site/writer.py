"""Write a built site: into a staging folder beside the output, then swap it in at once.

Files whose bytes did not change are hard-linked from the old output, so they keep their
inode and time stamp; a reader of the output folder sees the old site or the new one. When
nothing changed at all, nothing is touched. The old tree is deleted in the background.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bitopia_site import copier
from bitopia_site.copier import SENDFILE, copy_file, make_folder
from bitopia_site.errors import SiteError

MARKER = ".bitopia-output"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True, slots=True)
class WriteStats:
    written: int
    unchanged: int
    removed: int
    build_id: str = ""


def staging_path(out: Path) -> Path:
    return out.parent / f".{out.name}.staging"


def spare_path(out: Path) -> Path:
    """Where the output before the current one is kept: the next build's staging folder is made
    from it by changing only what differs, instead of linking every file anew."""
    return out.parent / f".{out.name}.spare"


@dataclass(frozen=True, slots=True)
class Spare:
    """What the spare folder holds: the build `build_id`, which differs from the current output in `changes`."""

    build_id: str
    changes: frozenset[str]


def missing_files(out: Path, files: set[str]) -> bool:
    """True when a file a build wrote is gone from `out` (deleted by hand, say)."""
    folder = str(out)
    return not all(os.path.isfile(f"{folder}/{rel}") for rel in files)


def output_id(out: Path) -> str:
    """The id of the build that wrote `out` (from its marker), or '' when there is none."""
    try:
        return (out / MARKER).read_text().split()[-1]
    except (OSError, IndexError):
        return ""


def check_clear_of_site(path: Path, root: Path, what: str, hint: str) -> None:
    """Refuse `path` (named `what` in the message) if it is, holds or sits inside the site folder
    `root`'s content/, static/, templates/ or themes/ (or the packaged themes): a build reads those,
    so writing there would copy earlier outputs into later ones, or move and delete the sources."""
    from bitopia_site.theme import PACKAGED_THEMES

    path, root = path.resolve(), root.resolve()
    if path == root or root.is_relative_to(path):
        raise SiteError(str(path), f"the {what} would contain the site itself", hint)
    for folder in [*(root / name for name in ("content", "static", "templates", "themes")), PACKAGED_THEMES]:
        if path.is_relative_to(folder.resolve()):
            raise SiteError(str(path), f"the {what} would be inside {folder}, which every build reads", hint)


def check_output_folder(out: Path, root: Path) -> None:
    """Refuse an output folder that would swallow the site, sit in its sources, or hold someone's files."""
    out = out.resolve()
    check_clear_of_site(out, root, "output folder", "choose a folder of its own, like output/")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise SiteError(str(out), "exists and was not made by bitopia, so it will not be replaced",
                        "empty it, delete it, or choose another output folder")


class SiteWriter:
    """Writes one build into `out`: changed files go straight into a staging folder as they are
    rendered (so the site is never held in memory), unchanged ones are hard-linked at the end,
    then the staging folder is swapped in. Nothing is staged when nothing changed.
    """

    def __init__(self, out: Path, previous_files: set[str] | None = None, in_place: bool = False,
                 spare: Spare | None = None, make_spare: bool = False, lock: int | None = None) -> None:
        self.out = out.resolve()
        self.lock = lock  # the held lock of builds into `out` (see Cache.hold), for work that outlives the build
        self.make_spare = make_spare  # after a build that leaves no spare folder, link one (its record is kept)
        self.in_place = in_place  # for a dev server that holds requests while it builds: no staging
        self.previous = previous_files  # the files of the output, when known
        self.spare = spare if previous_files is not None else None
        self.spare_after: Spare | None = self.spare  # what the spare folder holds after this build
        self.from_spare = False  # the staging folder was made from the spare folder
        self.stage: Path | None = None
        self.kept: set[str] = set()
        self.made_dirs: set[str] = set()
        self.written = 0
        self.written_paths: set[str] = set()
        self._early: _StaticCopy | None = None
        self._guard(lambda: self.out.parent.mkdir(parents=True, exist_ok=True))
        sweep_leftovers(self.out)

    def direct_folder(self) -> str | None:
        """The staging folder of a first build, into which the page renderers may write their files
        themselves (see `write_page`, then `put_written`); None when each page must come through
        `put`, to be compared with the output's own file."""
        if self.in_place or self.previous is not None or self.out.exists():
            return None
        self._guard(self._ensure_stage)
        return None if self.from_spare else str(self.stage)

    def put_written(self, rel: str, error: OSError | None = None) -> None:
        """A page that a renderer wrote into `direct_folder` itself, or the error it met doing so."""
        if error is not None:
            self._fail(error)
        self.written += 1
        self.written_paths.add(rel)

    def put(self, rel: str, data: bytes | None) -> None:
        """One rendered file; None means "the same as the file already in the output"."""
        if self._early is not None and self._early.failed():  # fail now, not after every page
            self._guard(self._early_copies)
        if data is None or _same_bytes(f"{self.out}/{rel}", data):
            self.kept.add(rel)
            return
        self._guard(lambda: self._write(rel, data))

    def copy_static_early(self, static: dict[str, Path]) -> None:
        """Start copying the static files into the staging folder while the pages are being made.
        Only for a first build: with no output to compare them with, every one is copied anyway.
        Only on Linux (SENDFILE): elsewhere a file system may ignore case, and a page and a static
        file could meet."""
        if (self.in_place or self.previous is not None or self._early is not None or self.out.exists()
                or not SENDFILE or not sys.executable):
            return
        self._guard(self._ensure_stage)
        try:
            self._early = _StaticCopy(str(self.stage), dict(static))
        except OSError:  # it cannot be started: no head start, finish() copies every file
            pass

    def _early_copies(self) -> dict[str, Path]:
        """Wait for the early copy; what it copied (rel -> source). Raises the OSError it met."""
        early = self._early
        if early is None:
            return {}
        error = early.wait()
        self._early = None  # only once it has stopped: abort() must find a copy still running
        if error is not None:
            raise error
        return early.files

    def put_file(self, rel: str, source: Path) -> None:
        """Copy one static file into an output updated in place."""
        assert self.in_place, "a staged build copies static files in finish()"
        self._guard(lambda: self._replace(rel, None, source))

    def finish(self, static: dict[str, Path], static_unchanged: bool = False) -> WriteStats:
        """Add the static files, then swap the finished site in (or change nothing). With
        `static_unchanged`, the caller knows the output's copies are current: none is compared."""
        paths = self.kept | static.keys() | self.written_paths
        if self.in_place:
            return self._finish_in_place(static, paths)
        early: dict[str, Path] = {}
        self._guard(lambda: early.update(self._early_copies()))
        same = _same_static
        if static_unchanged and self.previous is not None:
            same = lambda old, source: True  # noqa: E731
        if (self.stage is None and self.previous is not None and self.out.is_dir() and self.previous == paths
                and all(same(f"{self.out}/{rel}", src) for rel, src in static.items() if rel not in self.kept)):
            return WriteStats(0, len(paths), 0, output_id(self.out))
        unchanged = 0

        def place_all() -> None:
            nonlocal unchanged
            out, stage = str(self.out), str(self._ensure_stage())
            if self.from_spare:  # the stage holds the output already: change what differs
                unchanged += len(self.kept)
                for rel in sorted((self.previous or set()) - paths):
                    _prune(Path(stage), rel)
            else:
                for rel in self.kept:
                    self._dirs(rel)
                    os.link(f"{out}/{rel}", f"{stage}/{rel}")
                    unchanged += 1
            for rel, source in static.items():
                if early.get(rel) == source:
                    self.written += 1
                    self.written_paths.add(rel)
                elif same(f"{out}/{rel}", source):
                    if not self.from_spare:
                        self._dirs(rel)
                        os.link(f"{out}/{rel}", f"{stage}/{rel}")
                    unchanged += 1
                else:
                    self._dirs(rel)
                    _unlink(f"{stage}/{rel}")
                    copy_file(source, f"{stage}/{rel}")
                    self.written += 1
                    self.written_paths.add(rel)

        self._guard(place_all)
        build_id = uuid.uuid4().hex
        stage = self._ensure_stage()

        def mark() -> None:
            _unlink(f"{stage}/{MARKER}")
            (stage / MARKER).write_text(f"made by bitopia; replaced whole on every build\n{build_id}\n")

        self._guard(mark)
        old_files = self.previous if self.previous is not None else (_files(self.out) if self.out.exists() else set())
        gone = old_files - paths - {MARKER}
        old_id = output_id(self.out)
        old_tree = swap(stage, self.out)
        self.stage = None
        self.spare_after = None
        if old_tree is not None:
            if self.previous is not None and old_id:
                _keep_as_spare(old_tree, self.out)
                self.spare_after = Spare(old_id, frozenset(self.written_paths | gone))
            else:
                _delete_later(_to_trash(old_tree, self.out))
        if self.spare_after is None and self.make_spare:
            self.spare_after = _link_spare(self.out, paths, build_id, self.lock)
        return WriteStats(self.written, unchanged, len(gone), build_id)

    def _finish_in_place(self, static: dict[str, Path], paths: set[str]) -> WriteStats:
        unchanged = len(self.kept)
        for rel, source in static.items():
            if _same_static(f"{self.out}/{rel}", source):
                unchanged += 1
            else:
                self._guard(lambda: self._replace(rel, None, source))
        old_files = self.previous if self.previous is not None else _files(self.out)
        gone = sorted(old_files - paths - {MARKER})
        for rel in gone:
            _prune(self.out, rel)
        build_id = uuid.uuid4().hex
        # The marker may be a hard link shared with the spare folder: replace it, never write through it.
        self._guard(lambda: (_unlink(f"{self.out}/{MARKER}"),
                             (self.out / MARKER).write_text(f"made by bitopia; updated in place\n{build_id}\n")))
        self.spare_after = None  # the output changed file by file: the spare's list of differences no longer holds
        return WriteStats(self.written, unchanged, len(gone), build_id)

    def _replace(self, rel: str, data: bytes | None, source: Path | None) -> None:
        """Replace one file of the output in a single rename, so no reader sees half of it."""
        target = self.out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.parent / f".{target.name}.{os.getpid()}.tmp"
        if source is not None:
            copy_file(source, temp)
        else:
            temp.write_bytes(data or b"")
        os.replace(temp, target)
        self.written += 1
        self.written_paths.add(rel)

    def abort(self) -> None:
        """Drop the staging folder; the output stays as it was."""
        if self._early is not None:
            self._early.stop()
            self._early = None
        if self.stage is not None:
            _remove(self.stage)
            self.stage = None

    def _ensure_stage(self) -> Path:
        if self.stage is None:
            stage = staging_path(self.out)
            if stage.exists() or stage.is_symlink():
                _remove(stage)
            if not self._stage_from_spare(stage):
                stage.mkdir()
            self.stage = stage
        return self.stage

    def _stage_from_spare(self, stage: Path) -> bool:
        """Turn the spare folder into a copy of the output (it differs only in `spare.changes`):
        the staging folder then needs only this build's changes. False when there is no usable spare."""
        spare = spare_path(self.out)
        if self.spare is None or output_id(spare) != self.spare.build_id:
            return False
        self.spare_after = None
        os.rename(spare, stage)
        out = str(self.out)
        try:
            for rel in sorted(self.spare.changes):
                _prune(stage, rel)
                if os.path.isfile(f"{out}/{rel}"):
                    os.makedirs(os.path.dirname(f"{stage}/{rel}"), exist_ok=True)
                    os.link(f"{out}/{rel}", f"{stage}/{rel}")
        except OSError:
            _remove(stage)
            return False
        self.from_spare = True
        return True

    def _dirs(self, rel: str) -> None:
        make_parent(str(self._ensure_stage()), rel, self.made_dirs)

    def _write(self, rel: str, data: bytes) -> None:
        if self.in_place:
            self._replace(rel, data, None)
            return
        self._dirs(rel)
        path = f"{self._ensure_stage()}/{rel}"
        if self.from_spare:  # the file there is a link to the output's: never write through it
            _unlink(path)
        _write_new(path, data)
        self.written += 1
        self.written_paths.add(rel)

    def _guard(self, action) -> None:
        try:
            action()
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        """Drop what was staged and raise the error a user sees for `exc`."""
        self.abort()
        raise SiteError(str(self.out), f"cannot write the site: {exc.strerror or exc}",
                        "free some disk space or fix the folder's permissions; the previous output is "
                        "untouched") from None


class _StaticCopy:
    """Copies static files into a staging folder in a process of its own, a fresh interpreter at the
    lowest CPU priority: it takes the time the build leaves a core idle (its one-process steps) and
    little from parsing and rendering, and none of the build's memory; finish() waits for what is
    left. Linux only (see `copy_static_early`)."""

    def __init__(self, stage: str, files: dict[str, Path]) -> None:
        self.files = files
        with tempfile.TemporaryFile() as listing:  # a file, not a pipe: the build never waits to hand it over
            listing.write(copier.encode_list(files))
            listing.seek(0)
            self.process = subprocess.Popen([sys.executable, "-I", "-S", copier.__file__, "copy", stage, str(os.getpid())],
                                            stdin=listing, stdout=subprocess.PIPE)
        self._outcome: Any = _PENDING  # None when all is copied, else (errno, why, file)

    def _receive(self) -> None:
        assert self.process.stdout is not None
        message = self.process.stdout.read()
        if not message:  # it ended without a word (it could not run, or was killed): trust none of its copies
            self.files = {}
        self._outcome = copier.decode_outcome(message) if message else None

    def failed(self) -> bool:
        """True once the copy has stopped on an error (asks without waiting)."""
        if self._outcome is _PENDING and self.process.poll() is not None:
            self._receive()
        return self._outcome is not _PENDING and self._outcome is not None

    def wait(self) -> OSError | None:
        """Wait for the copy to end; the error that stopped it, if any."""
        if self._outcome is _PENDING:
            self._receive()
        self._close()
        return None if self._outcome is None else OSError(*self._outcome)

    def stop(self) -> None:
        self.process.kill()
        self._close()

    def _close(self) -> None:
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


_PENDING = object()


def _prune(out: Path, rel: str) -> None:
    """Delete one file of the output and the folders it leaves empty."""
    path = out / rel
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    parent = path.parent
    while parent != out:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent


def make_parent(folder: str, rel: str, made_dirs: set[str]) -> None:
    """Make the folder `rel` goes in below `folder`, unless `made_dirs` says it was made already."""
    parent = os.path.dirname(rel)
    if parent and parent not in made_dirs:
        make_folder(f"{folder}/{parent}")
        made_dirs.add(parent)


def write_page(folder: str, rel: str, data: bytes, made_dirs: set[str]) -> None:
    """Write a new file `rel` of a staging folder, making its folders (those in `made_dirs` exist)."""
    make_parent(folder, rel, made_dirs)
    _write_new(f"{folder}/{rel}", data)


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


def _same_static(old: str, source: Path) -> bool:
    """True when `old` is a copy of `source` as it is now: same size and time stamp (copies keep the
    source's), and the source not changed since the copy was made (its ctime, which no tool sets back)."""
    try:
        a, b = os.stat(old), os.stat(source)
    except OSError:
        return False
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns and b.st_ctime_ns <= a.st_ctime_ns


def swap(stage: Path, out: Path) -> Path | None:
    """Put `stage` where `out` is in one step; return where the old output is now (None if there was none)."""
    if not out.exists():
        os.rename(stage, out)
        return None
    if not _exchange(stage, out):
        old = out.parent / f".{out.name}.old"
        if old.exists():
            _remove(old)
        os.rename(out, old)
        os.rename(stage, out)
        return old
    return stage


def _to_trash(tree: Path, out: Path) -> Path:
    trash = out.parent / f".{out.name}.trash-{uuid.uuid4().hex[:8]}"
    os.rename(tree, trash)
    return trash


def _keep_as_spare(tree: Path, out: Path) -> None:
    spare = spare_path(out)
    if spare.exists() or spare.is_symlink():
        _delete_later(_to_trash(spare, out))
    os.rename(tree, spare)


def _link_spare(out: Path, files: set[str], build_id: str, lock: int | None) -> Spare | None:
    """A spare folder that is the output itself, in hard links, when there was no older output to
    keep (a first build): the next build then starts from it and not from nothing. Its marker is
    linked last, so a spare cut short is never used. With the `lock` of builds into `out`, the
    links are made by a process of its own that holds the lock until it is done: the build need
    not wait for them, and the next build waits before it looks at the spare."""
    spare = spare_path(out)
    names = [*files, MARKER]
    try:
        if spare.exists() or spare.is_symlink():
            _delete_later(_to_trash(spare, out))
        if lock is not None:
            with tempfile.TemporaryFile() as listing:
                listing.write(b"".join(os.fsencode(name) + b"\0" for name in names))
                listing.seek(0)
                subprocess.Popen([sys.executable, "-I", "-S", copier.__file__, "link", str(spare), str(out)],
                                 stdin=listing, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 pass_fds=(lock,), start_new_session=True)
        else:
            copier.link_tree(str(spare), str(out), names)
    except OSError:
        return None
    return Spare(build_id, frozenset())


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def sweep_leftovers(out: Path) -> None:
    """What a killed build left beside the output: its staging folder, old trees not yet deleted."""
    stage = staging_path(out)
    if stage.exists() or stage.is_symlink():
        _remove(stage)
    for leftover in out.parent.glob(f".{out.name}.trash-*"):
        _delete_later(leftover)


def _delete_later(path: Path) -> None:
    """Delete a whole tree without making the build wait for it."""
    if os.environ.get("BITOPIA_SYNC_DELETE"):
        shutil.rmtree(path, ignore_errors=True)
        return
    try:
        subprocess.Popen([sys.executable, "-c", "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)",
                          str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2); False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _files(folder: Path) -> set[str]:
    """Every file below `folder`, relative to it, with '/' separators."""
    found = set()
    for dirpath, _, names in os.walk(folder):
        rel = os.path.relpath(dirpath, folder)
        for name in names:
            found.add(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return found


def remove_output(root: Path, out: Path) -> list[Path]:
    """Delete a bitopia output folder (with its staging and trash siblings) and the site's cache."""
    from bitopia_site.cache import CACHE_DIR, settle

    out = out.resolve()
    if out.exists() and not (out / MARKER).exists() and any(out.iterdir()):
        raise SiteError(str(out), "was not made by bitopia, so it is not deleted", "delete it yourself if you mean to")
    settle(root, out)  # a spare tree still being linked
    removed = []
    for path in [out, staging_path(out), spare_path(out), root.resolve() / CACHE_DIR]:
        if path.exists() or path.is_symlink():
            _remove(path)
            removed.append(path)
    for trash in out.parent.glob(f".{out.name}.trash-*"):  # a background delete may be at it already
        shutil.rmtree(trash, ignore_errors=True)
    return removed
