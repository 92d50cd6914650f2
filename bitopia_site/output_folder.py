"""The output folder and its siblings: the marker that makes a folder bitopia's output, where the
staging folder and the spare tree sit beside it, which folders may be an output, what a killed build
left, and `bitopia clean`."""

from __future__ import annotations

import os
from pathlib import Path

from bitopia_site.errors import SiteError
from bitopia_site.swap import remove

MARKER = ".bitopia-output"


def staging_path(out: Path) -> Path:
    """Where a build writes the site before it is swapped in."""
    return out.parent / f".{out.name}.staging"


def spare_path(out: Path) -> Path:
    """Where the tree before the current output is kept, for the next build to start from (spare.py)."""
    return out.parent / f".{out.name}.spare"


def aside_path(out: Path) -> Path:
    """Where the old output goes for a moment, on a system that cannot exchange two folders."""
    return out.parent / f".{out.name}.old"


def output_id(out: Path) -> str:
    """The id of the build that wrote `out` (from its marker), or '' when there is none."""
    try:
        return (out / MARKER).read_text().split()[-1]
    except (OSError, IndexError):
        return ""


def missing_files(out: Path, files: set[str]) -> bool:
    """True when a file a build wrote is gone from `out` (deleted by hand, say)."""
    folder = str(out)
    return not all(os.path.isfile(f"{folder}/{rel}") for rel in files)


def tree_files(folder: Path) -> set[str]:
    """Every file below `folder`, relative to it, with '/' separators."""
    found = set()
    for dirpath, _, names in os.walk(folder):
        rel = os.path.relpath(dirpath, folder)
        for name in names:
            found.add(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return found


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


def sweep_leftovers(out: Path) -> None:
    """Delete what a killed build left beside the output: its staging folder, an old output set aside."""
    for path in (staging_path(out), aside_path(out)):
        if os.path.lexists(path):
            remove(path)


def remove_output(root: Path, out: Path) -> list[Path]:
    """Delete a bitopia output folder (with its staging folder and spare tree) and the site's cache."""
    from bitopia_site.cache import CACHE_DIR, settle

    out = out.resolve()
    if out.exists() and not (out / MARKER).exists() and any(out.iterdir()):
        raise SiteError(str(out), "was not made by bitopia, so it is not deleted", "delete it yourself if you mean to")
    settle(root, out)  # a build into `out` still running
    removed = []
    for path in [out, staging_path(out), spare_path(out), aside_path(out), root.resolve() / CACHE_DIR]:
        if os.path.lexists(path):
            remove(path)
            removed.append(path)
    for trash in out.parent.glob(f".{out.name}.trash-*"):  # left by versions that deleted old trees in the background
        remove(trash)
    return removed
