"""`ref` and `relref`: a page's link to another page by its content path, resolved once every page
is known.

Parsing a file cannot see the others (it runs in parallel and is cached per file), so the
shortcodes leave a mark in the HTML (`mark`), which `resolve` replaces with the target's URL after
all documents are parsed. A mark holds NUL characters, which Markdown never lets through from a
post's own text, so no post can forge one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Callable, Iterable
from urllib.parse import quote, unquote

from markupsafe import Markup

from bitopia_site.body import Body
from bitopia_site.errors import SiteError
from bitopia_site.model import Document

_MARK = re.compile("\x00bitopia-ref:([01]):(\\d+):([^:\x00]*):([^:\x00]*)\x00")
_MARK_BYTES = b"\x00bitopia-ref:"


def mark(absolute: bool, target: str, source: str, line: int) -> str:
    """What stands in the HTML for a link to `target` from `source` (at `line`) until `resolve`."""
    return f"\x00bitopia-ref:{int(absolute)}:{line}:{quote(source, safe='')}:{quote(target, safe='')}\x00"


def resolve(documents: list[Document], shows: Callable[[Document], bool], base_url: str,
            errors: list[SiteError]) -> list[Document]:
    """The documents with every mark replaced by its target's URL (`ref`: absolute, `relref`: from
    the site's root); a target that is no published page is an error of the page that names it,
    when that page is published itself."""
    if not any(has_marks(doc) for doc in documents):
        return documents
    index = _Index([doc for doc in documents if shows(doc)])
    origin = base_url.rstrip("/")
    result = []
    for doc in documents:
        if not has_marks(doc):
            result.append(doc)
            continue
        found: list[str] = []
        missing: set[tuple[int, str]] = set()  # reported once, though the summary holds it too

        def url(match: re.Match[str], doc: Document = doc, found: list[str] = found,
                missing: set[tuple[int, str]] = missing) -> str:
            absolute, line, target = match.group(1) == "1", int(match.group(2)), unquote(match.group(4))
            link = index.url(target, doc.source)
            if link is None:
                if shows(doc) and (line, target) not in missing:
                    missing.add((line, target))
                    errors.append(SiteError(doc.source, f'{"ref" if absolute else "relref"} "{target}" names no '
                                            "published page", "name a page by its path under content/, like "
                                            '"posts/my-post.md"', line))
                link = "#"
            elif absolute and link.startswith("/"):
                link = origin + link
            found.append(link)
            return link

        html = _MARK.sub(url, str(doc.html))
        summary = _MARK.sub(url, str(doc.summary))
        digest = hashlib.blake2b(f"{doc.digest}\0{found}".encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        result.append(replace(doc, html=Body(html), summary=Markup(summary), digest=digest,
                              summary_text=Markup(summary).striptags()))
    return result


class _Index:
    """Pages by the names a ref may use: the path under content/ with or without its extension,
    a bundle's folder, a section's folder, and the file's own name where it is unique."""

    def __init__(self, documents: list[Document]) -> None:
        self.paths: dict[str, str] = {}
        names: dict[str, set[str]] = {}
        for doc in documents:
            rel = PurePosixPath(doc.source).relative_to("content")
            keys = {rel.as_posix(), rel.with_suffix("").as_posix()}
            if rel.stem in ("index", "_index"):
                keys.add(rel.parent.as_posix())
                name = rel.parent.name
            else:
                name = rel.stem
            for key in keys:
                self.paths[key.lower()] = doc.url
            names.setdefault(name.lower(), set()).add(doc.url)
            names.setdefault(rel.name.lower(), set()).add(doc.url)
            if doc.section and doc.section.lower() not in self.paths:
                self.paths.setdefault(f"{doc.section.lower()}", f"/{doc.section}/")
        self.names = {name: next(iter(found)) for name, found in names.items() if len(found) == 1}

    def url(self, target: str, source: str) -> str | None:
        """The URL `target` names from the page `source`, with its #fragment; None when none."""
        path, hash_mark, fragment = target.partition("#")
        suffix = f"#{fragment}" if hash_mark else ""
        path = path.strip()
        if not path:
            return suffix or None
        here = PurePosixPath(source).relative_to("content").parent
        candidates = [path.lstrip("/")] if path.startswith("/") else [_join(here, path), path]
        for candidate in candidates:
            if candidate is None:
                continue
            key = candidate.strip("/").lower()
            for form in (key, key.removesuffix(".md"), key.removesuffix(".markdown")):
                if form in self.paths:
                    return self.paths[form] + suffix
        if "/" not in path.strip("/"):
            found = self.names.get(path.strip("/").lower())
            if found is not None:
                return found + suffix
        return None


def _join(here: PurePosixPath, path: str) -> str | None:
    """`path` taken from the folder `here` ('..' allowed, never above content/)."""
    parts: list[str] = list(here.parts) if str(here) != "." else []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def has_marks(doc: Document) -> bool:
    """Whether `doc` links to other pages by `ref`/`relref` (is waiting for `resolve`)."""
    html = doc.html  # a NUL looked for first, at memchr's speed: a body without marks holds none
    return (bytearray.find(html, 0) >= 0 and bytearray.find(html, _MARK_BYTES) >= 0) or "\x00" in doc.summary


def resolve_one(doc: Document, documents: Iterable[Document], shows: Callable[[Document], bool],
                base_url: str) -> Document | None:
    """`doc` (edited since `documents` were resolved) with its marks resolved; None when one names
    no page (a whole build reports it)."""
    if not has_marks(doc):
        return doc
    errors: list[SiteError] = []
    resolved = resolve([*(d for d in documents if d.source != doc.source), doc], shows, base_url, errors)[-1]
    return None if errors else resolved
