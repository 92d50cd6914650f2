"""Copy files into a folder: the writer's one file copy, and a script that copies a list of files
(see writer._StaticCopy) or hard-links one (see writer._link_spare) in a process of its own.
Standard library only: it runs as a script, in a fresh interpreter that holds nothing of the
build's memory."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import sys
from pathlib import Path
from typing import Iterable

SENDFILE = sys.platform.startswith("linux") and hasattr(os, "sendfile")
AHEAD = 256  # files asked for ahead of the copy (see read_ahead)


def copy_file(source: Path | str, target: str) -> None:
    """Copy a file's bytes, mode and time stamps to a new `target` (the writer compares the time
    stamps). On Linux with sendfile, half the system calls of shutil.copy2, which also copies
    extended attributes; elsewhere, or where sendfile cannot read the source, copy2 itself."""
    if not SENDFILE:
        shutil.copy2(source, target)
        return
    info = os.stat(source)
    reader = os.open(source, os.O_RDONLY)
    try:
        writer = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IMODE(info.st_mode))
        try:
            os.fchmod(writer, stat.S_IMODE(info.st_mode))  # the umask does not apply to a copy
            offset = 0
            while offset < info.st_size:
                sent = os.sendfile(writer, reader, offset, info.st_size - offset)
                if sent == 0:  # the file shrank while we copied it: copy what is there
                    break
                offset += sent
        finally:
            os.close(writer)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSOCK, errno.EOPNOTSUPP):
            raise
        shutil.copy2(source, target)  # a file system sendfile cannot read (some FUSE or 9p mounts)
        return
    finally:
        os.close(reader)
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))


def read_ahead(paths: Iterable[str]) -> None:
    """Ask the kernel to read these regular files into memory in the background: on a cold page
    cache the disk then serves many reads at once, not one after another as they are needed. A
    hint only: a file that cannot be opened is skipped (its reader reports it)."""
    if not hasattr(os, "posix_fadvise"):
        return
    for path in paths:
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                continue
            handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError:
            continue
        try:
            os.posix_fadvise(handle, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(handle)


def make_folder(folder: str) -> None:
    """`os.makedirs(folder, exist_ok=True)` in one call where the folder above exists, as it mostly does."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)


def encode_list(files: dict[str, Path]) -> bytes:
    """What the script reads on its standard input: `rel NUL source NUL` for each file."""
    return b"".join(os.fsencode(rel) + b"\0" + os.fsencode(source) + b"\0" for rel, source in files.items())


def decode_outcome(message: bytes) -> tuple[int, str, str | None] | None:
    """What the script wrote (not b"": it ended without a word): None when every file was copied, else
    the (errno, why, file) that stopped it."""
    if message == b"ok":
        return None
    number, why, name = message.split(b"\0")
    return (int(number), os.fsdecode(why), os.fsdecode(name) if name else None)


def _copy_listed(stage: str, listing: bytes) -> bytes:
    """Copy every file of `listing` below `stage`; the outcome, for `decode_outcome`."""
    fields = listing.split(b"\0")
    sources = fields[1:-1:2]
    made: set[str] = set()
    try:
        for number, at in enumerate(range(0, len(fields) - 1, 2)):
            if number % AHEAD == 0:  # the files after the next AHEAD are asked for while those are copied
                read_ahead(os.fsdecode(name) for name in sources[number + AHEAD if number else 0:number + 2 * AHEAD])
            rel, source = os.fsdecode(fields[at]), os.fsdecode(fields[at + 1])
            parent = os.path.dirname(rel)
            if parent and parent not in made:
                make_folder(f"{stage}/{parent}")
                made.add(parent)
            copy_file(source, f"{stage}/{rel}")
    except OSError as exc:
        return b"\0".join([str(exc.errno or 0).encode(), os.fsencode(exc.strerror or str(exc)),
                           os.fsencode(exc.filename or "")])
    return b"ok"


def link_tree(target: str, source: str, names: list[str]) -> None:
    """Make `target` a copy of the `names` below `source` in hard links, in order (so the last
    name is linked last); on an error, remove what was made and raise it."""
    folders = {name.rsplit("/", 1)[0] for name in names if "/" in name}
    for folder in list(folders):
        while "/" in folder:
            folder = folder.rsplit("/", 1)[0]
            folders.add(folder)
    try:
        os.mkdir(target)
        for folder in sorted(folders):
            os.mkdir(f"{target}/{folder}")
        for name in names:
            os.link(f"{source}/{name}", f"{target}/{name}")
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _die_with(parent: int) -> None:
    """Be killed when the build that started this process dies (PR_SET_PDEATHSIG), and stop now if it
    is gone already: a killed build leaves no copier behind."""
    import ctypes
    import signal
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        sys.exit(1)


if __name__ == "__main__":  # at the lowest CPU priority:
    try:                    # copier.py copy STAGE PARENT_PID < listing > outcome
        os.nice(19)         # copier.py link TARGET SOURCE < names (NUL after each)
    except OSError:
        pass
    if sys.argv[1] == "copy":
        _die_with(int(sys.argv[3]))
        sys.stdout.buffer.write(_copy_listed(sys.argv[2], sys.stdin.buffer.read()))
    else:  # it outlives the build that started it, and holds the lock of builds into the output until done
        try:
            link_tree(sys.argv[2], sys.argv[3], [os.fsdecode(n) for n in sys.stdin.buffer.read().split(b"\0")[:-1]])
        except OSError:
            sys.exit(1)
