"""The spare tree beside the output (`.output.spare`): an earlier output in hard links, from which a
build makes its staging folder by changing only the files that differ from the current output,
instead of linking every file anew.

A staged build keeps the output it replaces as the spare and records how the two differ (`Spare`).
Where that record is missing or does not hold (a build in place, a build without the cache, a spare
cut short), the spare is matched with the output file by file: a file that is a hard link to
the output's own is kept, any other replaced or removed. So no build deletes a whole tree, which
takes seconds at 10k pages. A first build has no older output to keep: it links each file it
writes into a new spare as it goes (`Trees`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bitopia_site.copier import make_folder
from bitopia_site.output_folder import MARKER, output_id, spare_path, staging_path
from bitopia_site.swap import prune, remove


@dataclass(frozen=True, slots=True)
class Spare:
    """What the spare tree holds: the build `build_id`, which differs from the current output in `changes`."""

    build_id: str
    changes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Trees:
    """Where a first build puts each file: the staging folder, and the spare tree that gets a hard
    link to each (None when the build makes none, or an older one is there to be matched at the end)."""

    stage: str
    spare: str | None

    def folder(self, rel: str, made_dirs: set[str]) -> None:
        """Make the folder `rel` goes in, in both trees, unless `made_dirs` says it was made."""
        parent = os.path.dirname(rel)
        if parent and parent not in made_dirs:
            make_folder(f"{self.stage}/{parent}")
            if self.spare is not None:
                make_folder(f"{self.spare}/{parent}")
            made_dirs.add(parent)

    def link(self, rel: str) -> None:
        """Link the staged file `rel` into the spare tree."""
        if self.spare is not None:
            os.link(f"{self.stage}/{rel}", f"{self.spare}/{rel}")


def take_spare(out: Path, record: Spare | None, files: Callable[[], set[str]]) -> str:
    """Make the staging folder a copy of the output `out` in hard links, from the spare tree when
    there is one (`record`: what it holds, if known), else from nothing; `files()` lists the
    output's files, asked only when the record does not hold. The folder has no marker."""
    spare, stage = spare_path(out), staging_path(out)
    trusted = record is not None and output_id(spare) == record.build_id
    if os.path.isdir(spare) and not os.path.islink(spare):
        os.rename(spare, stage)
        remove(stage / MARKER)
    else:
        trusted = False
        os.mkdir(stage)
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


def match(tree: Path | str, out: Path, files: set[str]) -> None:
    """Make `tree` hold exactly `files`, each a hard link to the output's own: a file that is one
    already is kept, any other file is replaced or removed, and so are the folders left empty."""
    tree, source = os.fspath(tree), os.fspath(out)
    for folder, _, names in os.walk(tree, topdown=False):
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
    for rel in files:
        target = f"{tree}/{rel}"
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


def match_spare(out: Path, files: set[str], build_id: str) -> Spare | None:
    """Make the spare tree left beside a new output (its own output deleted) a copy of this one,
    marker last; what it holds, or None when that failed."""
    spare = spare_path(out)
    try:
        remove(spare / MARKER)
        match(spare, out, files)
        os.link(out / MARKER, spare / MARKER)
    except OSError:
        return None
    return Spare(build_id, frozenset())
