"""The only reader of the site's files: content sources and the static files to copy."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from bitopia_site.config import STATIC_DOTFILES
from bitopia_site.errors import SiteError
from bitopia_site.model import Source

Signature = tuple[int, int, int, int]  # a file's size, mtime, ctime and inode

MARKDOWN_SUFFIXES = (".md", ".markdown")
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
# Parsing and rendering take about 60 times a post's size in memory: a 30 MiB post took 1.7 GiB.
MAX_POST_BYTES = 8 * 2**20


@dataclass
class SiteFiles:
    """What is in the site's folders: Markdown sources and files to copy as they are."""

    sources: list[Source] = field(default_factory=list)
    static: dict[str, Path] = field(default_factory=dict)  # output path -> file on disk
    # A leaf bundle's other files, by the bundle's source: published only with it (publication.py)
    resources: dict[str, dict[str, Path]] = field(default_factory=dict)
    errors: list[SiteError] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # Markdown files not read: as `known` said they were
    unread: list[str] = field(default_factory=list)  # Markdown files left for the parser to read (read_markdown)
    signatures: dict[str, Signature] = field(default_factory=dict)  # every Markdown file's, read or not


def walk(folder: Path, root: Path, errors: list[SiteError] | None = None,
         shown: str | None = None) -> list[tuple[str, Path]]:
    """Files below `folder` as (path relative to `folder`, path), hidden ones left out, sorted.

    A link (the folder itself, a folder in it or a file) that leads outside `root` is left out,
    and named with its target in `errors` (its name shown as `shown/...`), so a site can never
    publish files from elsewhere.
    """
    return [(rel, Path(path)) for rel, path in _walk(folder, root, errors, shown)]


def _walk(folder: Path, root: Path, errors: list[SiteError] | None = None,
          shown: str | None = None, hidden: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """`walk` with the paths as strings (a Path per file costs more than reading a small post);
    the hidden files and folders named in `hidden` are kept."""
    found: list[tuple[str, str]] = []
    if not folder.is_dir():
        return found
    root_real = os.path.realpath(root)
    shown = folder.name if shown is None else shown
    base = str(folder)
    if _links_out(base, root_real, shown, errors):
        return found
    join = os.path.join
    for dirpath, dirnames, filenames in os.walk(base, followlinks=True):
        rel_dir = "" if dirpath == base else os.path.relpath(dirpath, base).replace(os.sep, "/") + "/"
        dirnames[:] = [name for name in sorted(dirnames) if (not name.startswith(".") or name in hidden)
                       and not _links_out(join(dirpath, name), root_real, f"{shown}/{rel_dir}{name}", errors)]
        for name in filenames:
            if ignored(name) and name not in hidden:
                continue
            path = join(dirpath, name)
            if not _links_out(path, root_real, f"{shown}/{rel_dir}{name}", errors):
                found.append((rel_dir + name, path))
    found.sort()
    return found


def _links_out(path: str, root_real: str, shown: str, errors: list[SiteError] | None) -> bool:
    """Whether `path` is a link whose target is outside `root_real` (then named in `errors`)."""
    if not os.path.islink(path):
        return False
    target = os.path.realpath(path)
    if inside(target, root_real):
        return False
    if errors is not None:
        errors.append(SiteError(shown, f"is a link to {target}, outside the site",
                                "copy what it links to into the site instead of linking to it"))
    return True


def ignored(name: str) -> bool:
    """A file the site leaves out: hidden (an editor's swap file), a backup, the desktop's litter."""
    return name.startswith(".") or name in IGNORED_NAMES or name.endswith("~")


def inside(path: str, root: str) -> bool:
    """Whether the real path `path` is `root` or below it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _check_file(path: str, shown: str, root_real: str | None = None) -> tuple[SiteError | None, os.stat_result | None]:
    """(the error that keeps a file out of the site, its stat): a link leading outside `root_real`,
    or a pipe, socket or device (reading one would hang the build). The stat is None when the file
    is gone or a broken link: that is reported where it is read."""
    refused: list[SiteError] = []
    if root_real is not None and _links_out(path, root_real, shown, refused):
        return refused[0], None
    try:
        info = os.stat(path)
    except OSError:
        return None, None
    if not stat.S_ISREG(info.st_mode):
        return SiteError(shown, "is not a regular file (a pipe, socket or device)", "remove it from the site folder"), None
    return None, info


def read_site(root: Path, theme_static: list[Path], known: Mapping[str, Signature] | None = None,
              leave_unknown: bool = False, ignore: tuple[str, ...] = (),
              page_suffixes: tuple[str, ...] = MARKDOWN_SUFFIXES) -> SiteFiles:
    """Read content/ (Markdown becomes Sources, the rest is copied) and collect static files;
    a file of content/ whose full path matches a pattern of `ignore` (Hugo's ignoreFiles) is not.
    The files of content/ ending in `page_suffixes` are pages (a Hugo site's .html ones too).

    A Markdown file whose signature is the one in `known` is not read, only listed as unchanged.
    With `leave_unknown`, one not in `known` at all is only listed (as unread), for the processes
    that parse it to read: nothing could have been reused from it.
    """
    files = SiteFiles()
    root_real = os.path.realpath(root)
    for folder in [*reversed(theme_static), root / "static"]:
        home = root if folder == root / "static" else folder.parent  # the site, or the theme
        shown = "static" if home == root else f"{_shown_theme(root, home)}/static"
        for rel, path in _walk(folder, home, files.errors, shown, STATIC_DOTFILES):
            error, _ = _check_file(path, f"{shown}/{rel}")
            if error is not None:
                files.errors.append(error)
            else:
                files.static[rel] = Path(path)
    known = known or {}
    content = _walk(root / "content", root, files.errors, "content")
    if ignore:
        skip = re.compile("|".join(f"(?:{pattern})" for pattern in ignore))
        content = [(rel, path) for rel, path in content if not skip.search(path)]
    bundles = leaf_bundles(rel for rel, _ in content)
    for rel, path in content:
        site_rel = f"content/{rel}"
        if rel.lower().endswith(page_suffixes):
            if leave_unknown and site_rel not in known:
                files.unread.append(site_rel)
                continue
            read, signature = _read_markdown(root, site_rel, root_real, path, known.get(site_rel))
            if signature is not None:
                files.signatures[site_rel] = signature
            if read is UNCHANGED:
                files.unchanged.append(site_rel)
            elif isinstance(read, Source):
                files.sources.append(read)
            elif read is not None:
                files.errors.append(read)
        else:
            error, _ = _check_file(path, site_rel)
            if error is not None:
                files.errors.append(error)
            elif (bundle := _bundle_of(rel, bundles)) is not None:
                files.resources.setdefault(bundle, {})[rel] = Path(path)
            else:
                files.static[rel] = Path(path)
    return files


def leaf_bundles(content_rels: Iterable[str]) -> dict[str, str]:
    """The leaf bundles among the files of content/: each folder holding an `index.md` (or
    `.markdown`), relative to content/, mapped to that file's site path."""
    found: dict[str, str] = {}
    for rel in content_rels:
        folder, _, name = rel.rpartition("/")
        if folder and name.lower() in ("index.md", "index.markdown"):
            found.setdefault(folder, f"content/{rel}")
    return found


def _bundle_of(rel: str, bundles: dict[str, str]) -> str | None:
    """The source of the leaf bundle a file of content/ belongs to (the nearest folder above it
    that is one), or None."""
    folder = rel.rpartition("/")[0]
    while folder:
        if folder in bundles:
            return bundles[folder]
        folder = folder.rpartition("/")[0]
    return None


def _shown_theme(root: Path, theme: Path) -> str:
    """A theme folder as messages name it: relative to the site, or `theme NAME` when packaged."""
    try:
        return theme.relative_to(root).as_posix()
    except ValueError:
        return f"theme {theme.name}"


def read_source(root: Path, site_rel: str) -> Source | SiteError | None:
    """One Markdown file of content/ (`content/posts/x.md`) as a Source, or the error that keeps
    it from being one; None when it is gone."""
    return read_markdown(root, site_rel)[0]


def read_markdown(root: Path, site_rel: str,
                  root_real: str | None = None) -> tuple[Source | SiteError | None, Signature | None]:
    """`read_source`, and the signature of the file it read (`root_real`: the site's real path, if known)."""
    return _read_markdown(root, site_rel, root_real or os.path.realpath(root),  # type: ignore[return-value]
                          os.path.join(root, site_rel), None)


UNCHANGED = object()


def _read_markdown(root: Path, site_rel: str, root_real: str, path: str,
                   known: Signature | None) -> tuple[object, Signature | None]:
    """(Source, error, None when gone, or UNCHANGED when its signature is `known`; its signature)."""
    error, info = _check_file(path, site_rel, root_real)
    if error is not None:
        return error, None
    try:
        signature = None if info is None else (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        if signature is not None and signature == known:
            return UNCHANGED, signature
        if info is not None and info.st_size > MAX_POST_BYTES:
            return SiteError(site_rel, f"is {info.st_size / 2**20:.1f} MiB; a post can be at most "
                             f"{MAX_POST_BYTES // 2**20} MiB of text",
                             "split it, or put what makes it large (embedded images, data) in files of "
                             "their own beside it"), None
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        if not os.path.lexists(path):
            return None, None  # gone since it was listed
        return SiteError(site_rel, f"cannot be read: {exc.strerror}", "check its permissions"), None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return SiteError(site_rel, f"is not UTF-8 text (byte 0x{data[exc.start]:02x})", "save the file as UTF-8",
                         line), None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return SiteError(site_rel, "contains a NUL byte", "remove it; it is not text", line), None
    return Source(site_rel, text), signature


@dataclass(frozen=True)
class InputState:
    """Every file a build reads, with its signature: equal digests mean no input changed, and
    comparing `files` tells which did."""

    digest: str
    files: dict[str, object]  # a file's path -> its Signature (a config file: a hash of its bytes)


def input_state(root: Path, extra_folders: list[Path]) -> InputState:
    """The name, size, time stamps and inode of every file a build reads: the site's config,
    content/, static/, templates/, themes/ and the given theme folders. The change time (ctime)
    cannot be set back by a tool that keeps a file's modification time, so such edits are seen too."""
    h = hashlib.blake2b(digest_size=16)
    files: dict[str, object] = {}
    folders = [root / name for name in ("content", "static", "templates", "themes")] + list(extra_folders)
    for number, folder in enumerate(folders):
        h.update(str(folder).encode() + b"\0")
        site_files = number < 2  # content/ and static/: what read_site leaves out (an editor's swap file) is no input
        kept = STATIC_DOTFILES if number == 1 else frozenset()
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
            if site_files:
                dirnames[:] = [name for name in dirnames if not name.startswith(".") or name in kept]
            dirnames.sort()
            for name in sorted(filenames):
                if site_files and ignored(name) and name not in kept:
                    continue
                path = f"{dirpath}/{name}"
                try:
                    info = os.stat(path)
                except OSError:
                    continue
                signature = files[path] = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
                h.update(f"{path}\0{signature}\0".encode("utf-8", "surrogateescape"))
    for entry in sorted(os.listdir(root)):
        if entry.endswith((".yaml", ".yml", ".toml")):
            try:
                data = (root / entry).read_bytes()
            except OSError:
                continue
            files[entry] = hashlib.blake2b(data, digest_size=16).hexdigest()
            h.update(entry.encode() + b"\0" + data)
    return InputState(h.hexdigest(), files)
