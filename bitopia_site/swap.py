"""The file-system steps the writer and publish share: put a new tree where an old one is in one step
(renameat2 RENAME_EXCHANGE, or two renames where the system lacks it), remove a path, prune a file
with the folders it leaves empty, tell whether a copy of a static file is still current, and flush
a tree to disk."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import shutil
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, for the calls `os` lacks (renameat2, syncfs); None where it cannot be loaded."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None


def exchange(a: Path, b: Path) -> bool:
    """Exchange two existing paths in one step (Linux renameat2); False where the system cannot."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def swap_in(new: Path, target: Path, aside: Path) -> Path | None:
    """Put `new` where `target` is; return where the old `target` is now (`new`, or `aside` where
    the two cannot be exchanged; None if there was none). With the exchange, a reader of `target`
    finds the old or the new one; without it, for a moment between two renames, neither."""
    if not os.path.lexists(target):
        os.rename(new, target)
        return None
    if exchange(new, target):
        return new
    os.rename(target, aside)
    try:
        os.rename(new, target)
    except OSError:
        os.rename(aside, target)
        raise
    return aside


def remove(path: Path | str) -> None:
    """Delete a file, a symlink or a whole folder; nothing when it is not there."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass


def prune(root: Path | str, rel: str) -> None:
    """Delete the file `rel` below `root` (if there) and the folders it leaves empty, up to `root`."""
    root = os.fspath(root)
    try:
        os.unlink(f"{root}/{rel}")
    except FileNotFoundError:
        pass
    parent = os.path.dirname(rel)
    while parent:
        try:
            os.rmdir(f"{root}/{parent}")
        except OSError:
            break
        parent = os.path.dirname(parent)


def same_copy(copy: Path | str, source: Path | str, relinked_since: int | None = None) -> bool:
    """True when `copy` is a copy of `source` as it is now: the same size and modification time (a
    copy keeps its source's), and the source not changed since the copy was made (its ctime, which
    no tool can set back, is not later than the copy's). A hard link made to the copy moves its
    ctime on too: one whose ctime is `relinked_since` (ns) or later is compared byte for byte."""
    try:
        a, b = os.stat(copy), os.stat(source)
    except OSError:
        return False
    if a.st_size != b.st_size or a.st_mtime_ns != b.st_mtime_ns:
        return False
    if relinked_since is not None and a.st_ctime_ns >= relinked_since:
        return _same_contents(copy, source)
    return b.st_ctime_ns <= a.st_ctime_ns


def _same_contents(a: Path | str, b: Path | str) -> bool:
    try:
        with open(a, "rb") as first, open(b, "rb") as second:
            while True:
                chunk = first.read(1 << 20)
                if chunk != second.read(1 << 20):
                    return False
                if not chunk:
                    return True
    except OSError:
        return False


def sync(folder: Path) -> None:
    """Flush `folder`'s file system to disk (syncfs; where there is none, every file system)."""
    syncfs = getattr(_libc(), "syncfs", None)
    if syncfs is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    os.sync()
