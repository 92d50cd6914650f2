"""Copy files into a folder: the writer's one file copy, and `StaticCopy`, which copies a first
build's static files while its pages are made, in a process of its own that the build waits for.
Standard library only: the module runs as that process's script, in a fresh interpreter that holds
nothing of the build's memory."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable

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


class StaticCopy:
    """Copies static files into a first build's staging folder, in a process of its own: a fresh
    interpreter at the lowest CPU priority, which takes the time the build leaves a core idle (its
    one-process steps) and little from parsing and rendering, and none of the build's memory. The
    build waits for it (`wait`) or stops it (`stop`): it never outlives the build. Linux only (see
    writer.FirstWriter)."""

    def __init__(self, stage: str, files: dict[str, Path]) -> None:
        self.files = files
        with tempfile.TemporaryFile() as listing:  # a file, not a pipe: the build never waits to hand it over
            listing.write(b"".join(os.fsencode(rel) + b"\0" + os.fsencode(src) + b"\0" for rel, src in files.items()))
            listing.seek(0)
            script = [sys.executable, "-I", "-S", __file__, stage, str(os.getpid())]
            self.process = subprocess.Popen(script, stdin=listing, stdout=subprocess.PIPE)
        self._outcome: Any = _PENDING  # None when all is copied, else (errno, why, file)

    def _receive(self) -> None:
        assert self.process.stdout is not None
        message = self.process.stdout.read()
        if not message:  # it ended without a word (it could not run, or was killed): trust none of its copies
            self.files = {}
            self._outcome = None
        elif message == b"ok":
            self._outcome = None
        else:
            number, why, name = message.split(b"\0")
            self._outcome = (int(number), os.fsdecode(why), os.fsdecode(name) if name else None)

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


def _copy_listed(stage: str, listing: bytes) -> bytes:
    """Copy every file of `listing` below `stage`; the outcome: b"ok", or the errno, the reason and
    the file that stopped it."""
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


def die_with(parent: int) -> None:
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


if __name__ == "__main__":  # copier.py STAGE PARENT_PID < listing > outcome
    try:
        os.nice(19)
    except OSError:
        pass
    die_with(int(sys.argv[2]))
    sys.stdout.buffer.write(_copy_listed(sys.argv[1], sys.stdin.buffer.read()))
