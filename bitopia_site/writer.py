"""Write a built site: into a staging folder beside the output, then swap it in at once.

Files whose bytes did not change are hard-linked from the old output, so they keep their
inode and time stamp; a reader of the output folder sees the old site or the new one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bitopia_site.errors import SiteError

MARKER = ".bitopia-output"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True, slots=True)
class WriteStats:
    written: int
    unchanged: int
    removed: int


def staging_path(out: Path) -> Path:
    return out.parent / f".{out.name}.staging"


def check_output_folder(out: Path, root: Path) -> None:
    """Refuse an output folder that would swallow the site or a folder of someone's files."""
    out, root = out.resolve(), root.resolve()
    if out == root or root.is_relative_to(out) or out.is_relative_to(root / "content"):
        raise SiteError(str(out), "the output folder would contain the site itself",
                        "choose a folder of its own, like output/")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise SiteError(str(out), "exists and was not made by bitopia, so it will not be replaced",
                        "empty it, delete it, or choose another output folder")


def write_site(out: Path, rendered: dict[str, bytes], static: dict[str, Path]) -> WriteStats:
    """Make `out` hold exactly `rendered` and `static`, swapping in a finished staging folder."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = staging_path(out)
    if stage.exists() or stage.is_symlink():
        _remove(stage)
    stage.mkdir()
    written = unchanged = 0
    made_dirs: set[str] = set()
    try:
        for rel, data in rendered.items():
            if _place(out, stage, rel, made_dirs, lambda old: old.stat().st_size == len(data)
                      and old.read_bytes() == data, lambda target: target.write_bytes(data)):
                unchanged += 1
            else:
                written += 1
        for rel, source in static.items():
            if rel in rendered:
                continue
            info = source.stat()
            if _place(out, stage, rel, made_dirs,
                      lambda old: (st := old.stat()).st_size == info.st_size and st.st_mtime_ns == info.st_mtime_ns,
                      lambda target: shutil.copy2(source, target)):
                unchanged += 1
            else:
                written += 1
        (stage / MARKER).write_text("made by bitopia; replaced whole on every build\n")
    except OSError as exc:
        _remove(stage)
        raise SiteError(str(out), f"cannot write the site: {exc.strerror or exc}",
                        "free some disk space or fix the folder's permissions; the previous output is untouched") from None
    removed = len(_files(out) - rendered.keys() - static.keys() - {MARKER}) if out.exists() else 0
    swap(stage, out)
    return WriteStats(written, unchanged, removed)


def _place(out: Path, stage: Path, rel: str, made_dirs: set[str], same, write) -> bool:
    """Put one file into the staging folder: a hard link to the old one if it is the same."""
    parent = os.path.dirname(rel)
    if parent and parent not in made_dirs:
        os.makedirs(stage / parent, exist_ok=True)
        made_dirs.add(parent)
    old = out / rel
    target = stage / rel
    try:
        if old.is_file() and same(old):
            os.link(old, target)
            return True
    except OSError:
        pass
    write(target)
    return False


def swap(stage: Path, out: Path) -> None:
    """Put `stage` where `out` is in one step; the old output is deleted afterwards."""
    if not out.exists():
        os.rename(stage, out)
        return
    if _exchange(stage, out):
        _remove(stage)
        return
    old = out.parent / f".{out.name}.old"
    if old.exists():
        _remove(old)
    os.rename(out, old)
    os.rename(stage, out)
    _remove(old)


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
