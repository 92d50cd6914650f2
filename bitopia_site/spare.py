"""The spare tree beside the output (`.output.spare`): an earlier output in hard links, from which a
build makes its staging folder by changing only the files that differ from the current output,
instead of linking every file anew.

A staged build keeps the output it replaces as the spare and records how the two differ (`Spare`).
Where there is no such spare (after a first build), or its record does not hold (a build in place,
a build without the cache, a spare cut short), the staging folder is made or matched with the
output file by file, in a child process that runs while the build reads and plans (`StageMaker`):
a file that is a hard link to the output's own is kept, any other replaced or removed. So no build
deletes a whole tree, which takes seconds at 10k pages, and a first build makes no second tree
that a one-off build (a CI job, say) would never use.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bitopia_site.copier import die_with, make_folder
from bitopia_site.output_folder import MARKER, output_id, spare_path, staging_path
from bitopia_site.swap import prune, remove


@dataclass(frozen=True, slots=True)
class Spare:
    """What the spare tree holds: the build `build_id`, which differs from the current output in `changes`."""

    build_id: str
    changes: frozenset[str]


class StageMaker:
    """Makes a staged build's staging folder (`take_spare`). Where that means linking the whole
    output (about 45k files and folders at 10k posts), a child process of the build starts on it at
    once, on the core the build leaves idle while it reads and plans; `folder()` waits for it. Where
    the record vouches for the spare, it is renamed and patched when `folder()` is first asked."""

    def __init__(self, out: Path, record: Spare | None, files: Callable[[], set[str]]) -> None:
        self.out, self.record, self.files = out, record, files
        self.pid: int | None = None
        # every hard link to an output file made from now on moves its ctime on (swap.same_copy);
        # a second back, as the file system's clock may run behind this one by a tick
        self.begun_ns = time.time_ns() - 1_000_000_000
        if not _vouched(out, record) and _may_fork():
            files()  # listed here, once, if the record does not list them
            pid = os.fork()
            if pid == 0:  # the child: make the folder, and say by the exit code whether it did
                _make_and_exit(out, record, files)
            self.pid = pid

    def folder(self) -> str:
        """The staging folder, a copy of the output; an OSError if it cannot be made."""
        stage = staging_path(self.out)
        if self.pid is not None and self._wait():
            return str(stage)
        if os.path.isdir(stage):  # a child cut short: finish its work
            match(stage, self.out, self.files())
            return str(stage)
        return take_spare(self.out, self.record, self.files)

    def set_aside(self) -> None:
        """Stop the child, and keep what it made (a copy of the output, or part of one) as the spare,
        for the next build to match: a build that needs no staging folder, or fails."""
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            self._wait()
        stage, spare = staging_path(self.out), spare_path(self.out)
        if os.path.isdir(stage) and not os.path.lexists(spare):
            os.rename(stage, spare)
        elif os.path.lexists(stage):
            remove(stage)

    def _wait(self) -> bool:
        assert self.pid is not None
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        return os.waitstatus_to_exitcode(status) == 0


def _vouched(out: Path, record: Spare | None) -> bool:
    """True when the spare tree is the one the record describes: renaming and patching it is quick."""
    spare = spare_path(out)
    return (record is not None and os.path.isdir(spare) and not os.path.islink(spare)
            and output_id(spare) == record.build_id)


def _may_fork() -> bool:
    """Fork only on Linux, and only while the build runs one thread (a fork copies none of the others)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


def _make_and_exit(out: Path, record: Spare | None, files: Callable[[], set[str]]) -> None:
    """The child's whole life: make the staging folder, exit 0 if it did, 1 if not (never a traceback).
    It dies with the build (PR_SET_PDEATHSIG): a killed build leaves no child behind."""
    code = 1
    try:
        die_with(os.getppid())
        take_spare(out, record, files)
        code = 0
    except BaseException:  # the build makes the folder itself
        pass
    finally:
        os._exit(code)


def take_spare(out: Path, record: Spare | None, files: Callable[[], set[str]]) -> str:
    """Make the staging folder a copy of the output `out` in hard links, from the spare tree when
    there is one (`record`: what it holds, if known), else from nothing; `files()` lists the
    output's files, asked only when the record does not hold. The folder has no marker."""
    spare, stage = spare_path(out), staging_path(out)
    if not (os.path.isdir(spare) and not os.path.islink(spare)):
        os.mkdir(stage)
        match(stage, out, files(), fresh=True)
        return str(stage)
    trusted = _vouched(out, record)
    os.rename(spare, stage)
    remove(stage / MARKER)
    if trusted:
        assert record is not None
        _patch(str(stage), str(out), record.changes)
    else:
        match(stage, out, files())
    return str(stage)


def _patch(tree: str, out: str, changes: frozenset[str]) -> None:
    """Bring a tree that differs from the output `out` only in `changes` in line with it."""
    there = {rel for rel in changes if os.path.isfile(f"{out}/{rel}")}
    for rel in sorted(changes - there):  # first, so a folder gone from the output makes room for a file
        prune(tree, rel)
    for rel in sorted(there):
        remove(f"{tree}/{rel}")
        make_folder(os.path.dirname(f"{tree}/{rel}"))
        os.link(f"{out}/{rel}", f"{tree}/{rel}")


def match(tree: Path | str, out: Path, files: set[str], fresh: bool = False) -> None:
    """Make `tree` hold exactly `files`, each a hard link to the output's own: a file that is one
    already is kept, any other file is replaced or removed, and so are the folders left empty. A
    `fresh` tree is known to be empty: each file is only linked. The files go in path order, so
    the folders are made one after another (a third less time at 10k posts than in any order)."""
    tree, source = os.fspath(tree), os.fspath(out)
    for folder, _, names in () if fresh else os.walk(tree, topdown=False):
        base = folder[len(tree) + 1:]
        kept = 0
        for name in names:
            if (f"{base}/{name}" if base else name) in files:
                kept += 1
            else:
                os.unlink(f"{folder}/{name}")
        if not kept and folder != tree:
            try:
                os.rmdir(folder)
            except OSError:  # it holds folders that hold files
                pass
    made: set[str] = set()
    for rel in sorted(files):
        target = f"{tree}/{rel}"
        if not fresh:
            try:
                if os.lstat(target).st_ino == os.stat(f"{source}/{rel}").st_ino:
                    continue
                remove(target)
            except FileNotFoundError:
                pass
        parent = os.path.dirname(rel)
        if parent and parent not in made:
            make_folder(f"{tree}/{parent}")
            made.add(parent)
        os.link(f"{source}/{rel}", target)


def keep_as_spare(old: Path, out: Path, old_id: str, changes: set[str]) -> Spare | None:
    """Keep `old`, the output a build replaced, as the spare tree; what it holds: None when `old`
    has no build id (the next build matches it with the output) or cannot be moved (where it is,
    the next build deletes it as a leftover)."""
    try:
        os.rename(old, spare_path(out))
    except OSError:
        return None
    return Spare(old_id, frozenset(changes)) if old_id else None
