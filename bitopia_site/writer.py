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
import uuid
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
    build_id: str = ""


def staging_path(out: Path) -> Path:
    return out.parent / f".{out.name}.staging"


def output_id(out: Path) -> str:
    """The id of the build that wrote `out` (from its marker), or '' when there is none."""
    try:
        return (out / MARKER).read_text().split()[-1]
    except (OSError, IndexError):
        return ""


def check_output_folder(out: Path, root: Path) -> None:
    """Refuse an output folder that would swallow the site or a folder of someone's files."""
    out, root = out.resolve(), root.resolve()
    if out == root or root.is_relative_to(out) or out.is_relative_to(root / "content"):
        raise SiteError(str(out), "the output folder would contain the site itself",
                        "choose a folder of its own, like output/")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise SiteError(str(out), "exists and was not made by bitopia, so it will not be replaced",
                        "empty it, delete it, or choose another output folder")


def write_site(out: Path, rendered: dict[str, bytes | None], static: dict[str, Path],
               previous_files: set[str] | None = None) -> WriteStats:
    """Make `out` hold exactly `rendered` and `static`, swapping in a finished staging folder.

    A rendered value of None means "the same as the file already in `out`". `previous_files`,
    when known, is the set of files the last build wrote (to tell quickly that nothing changed).
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _sweep_trash(out)
    if previous_files is not None and out.is_dir() and _unchanged(out, rendered, static, previous_files):
        return WriteStats(0, len(rendered) + len(static), 0, output_id(out))
    stage = staging_path(out)
    if stage.exists() or stage.is_symlink():
        _remove(stage)
    stage.mkdir()
    written = unchanged = 0
    made_dirs: set[str] = set()
    try:
        for rel, data in rendered.items():
            if _place(out, stage, rel, made_dirs, data, None):
                unchanged += 1
            else:
                written += 1
        for rel, source in static.items():
            if rel in rendered:
                continue
            if _place(out, stage, rel, made_dirs, None, source):
                unchanged += 1
            else:
                written += 1
        build_id = uuid.uuid4().hex
        (stage / MARKER).write_text(f"made by bitopia; replaced whole on every build\n{build_id}\n")
    except OSError as exc:
        _remove(stage)
        raise SiteError(str(out), f"cannot write the site: {exc.strerror or exc}",
                        "free some disk space or fix the folder's permissions; the previous output is untouched") from None
    removed = len(_files(out) - rendered.keys() - static.keys() - {MARKER}) if out.exists() else 0
    swap(stage, out)
    return WriteStats(written, unchanged, removed, build_id)


def _unchanged(out: Path, rendered: dict[str, bytes | None], static: dict[str, Path], previous: set[str]) -> bool:
    """True when writing would change nothing: every page kept or equal, every static file the same."""
    if previous != rendered.keys() | static.keys():
        return False
    for rel, data in rendered.items():
        if data is not None:
            old = out / rel
            try:
                if old.stat().st_size != len(data) or old.read_bytes() != data:
                    return False
            except OSError:
                return False
    for rel, source in static.items():
        if rel not in rendered and not _same_static(out / rel, source):
            return False
    return True


def _same_static(old: Path, source: Path) -> bool:
    try:
        a, b = old.stat(), source.stat()
    except OSError:
        return False
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def _place(out: Path, stage: Path, rel: str, made_dirs: set[str], data: bytes | None, source: Path | None) -> bool:
    """Put one file into the staging folder; True when it is a hard link to the same old file."""
    parent = os.path.dirname(rel)
    if parent and parent not in made_dirs:
        os.makedirs(stage / parent, exist_ok=True)
        made_dirs.add(parent)
    old = out / rel
    target = stage / rel
    if data is None and source is None:  # kept: the old file is the right one
        os.link(old, target)
        return True
    try:
        if source is not None and _same_static(old, source):
            os.link(old, target)
            return True
        if data is not None and old.stat().st_size == len(data) and old.read_bytes() == data:
            os.link(old, target)
            return True
    except OSError:
        pass
    if source is not None:
        shutil.copy2(source, target)
    else:
        target.write_bytes(data or b"")
    return False


def swap(stage: Path, out: Path) -> None:
    """Put `stage` where `out` is in one step; the old output is deleted in the background."""
    if not out.exists():
        os.rename(stage, out)
        return
    if not _exchange(stage, out):
        old = out.parent / f".{out.name}.old"
        if old.exists():
            _remove(old)
        os.rename(out, old)
        os.rename(stage, out)
        stage = old
    trash = out.parent / f".{out.name}.trash-{uuid.uuid4().hex[:8]}"
    os.rename(stage, trash)
    _delete_later(trash)


def _sweep_trash(out: Path) -> None:
    """Old trees a previous build left for deletion (if its background delete was cut short)."""
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
    from bitopia_site.cache import CACHE_DIR

    out = out.resolve()
    if out.exists() and not (out / MARKER).exists() and any(out.iterdir()):
        raise SiteError(str(out), "was not made by bitopia, so it is not deleted", "delete it yourself if you mean to")
    removed = []
    candidates = [out, staging_path(out), *out.parent.glob(f".{out.name}.trash-*"), root.resolve() / CACHE_DIR]
    for path in candidates:
        if path.exists() or path.is_symlink():
            _remove(path)
            removed.append(path)
    return removed
