"""The references of a page's HTML to other files of the site, and whether each points at something:
the one rule that `bitopia check` applies to a built site and the build applies to each post's own HTML
(`broken_in_documents`), so a broken image or link is found the same way in both."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import EllipsisType
from typing import Collection, Iterable, Sequence
from urllib.parse import unquote, urljoin, urlsplit

from bitopia_site import parallel
from bitopia_site.config import SiteConfig
from bitopia_site.errors import SiteError
from bitopia_site.model import Document, OutputPage
from bitopia_site.urls import output_path

# Attributes that point at another resource, by tag; "*" applies to every tag.
_URL_ATTRS = {
    "a": ("href",), "area": ("href",), "link": ("href",), "img": ("src", "srcset"),
    "source": ("src", "srcset"), "script": ("src",), "iframe": ("src",), "embed": ("src",),
    "video": ("src", "poster"), "audio": ("src",), "track": ("src",), "object": ("data",),
    "input": ("src",),
}
_IMAGE_TAGS = {"img", "source", "video"}
_META_URLS = {"og:image", "og:url", "twitter:image", "og:image:url", "og:image:secure_url"}
_XML_URL = re.compile(r"<(loc|link|guid|url)\b[^>]*>\s*([^<\s][^<]*?)\s*</\1>|\bhref=\"([^\"]*)\"", re.I)
_LOOKS_LIKE_HOST = re.compile(r"^(www\.[\w-]+|[\w-]+(\.[\w-]+)*\.(com|org|net|io|dev|app|co|edu|gov|info|me|uk|de|fr|se|ro|eu))(/|$)", re.I)
# An attribute's value (the `=` first: the scan is ten times faster than one for the names), then
# whether the name before it is one that can hold a URL.
_ATTRIBUTE_VALUE = re.compile(rb"""=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_URL_NAME = re.compile(rb"(?:^|[^a-z0-9_:.-])(?:href|src|srcset|poster|data|content)\s*=*$")
_HOST = re.compile(r"https?://([^/?#]*)", re.I)
_SKIP_SCHEMES = re.compile(r"^(?!https?:)[a-zA-Z][a-zA-Z0-9+.-]*:")  # mailto:, tel:, data:, javascript:


@dataclass(frozen=True, slots=True)
class Reference:
    """One URL found in an output file: where, what kind, as written and as resolved."""

    file: str  # output path, e.g. 2014/08/06/x/index.html
    line: int
    raw: str
    target: str  # path below the site's base path, unquoted, without query or fragment: 'tags/x/'
    kind: str  # "link" | "image" | "resource"


def broken_in_documents(pages: Sequence[OutputPage], files: Collection[str], documents: Iterable[Document],
                        config: SiteConfig, jobs: int = 1) -> list[SiteError]:
    """Warnings for the images and local links written in `documents` (each published as one of
    `pages`) that point at none of `files`, every output path the build makes (a set, or the maps
    whose keys they are: only asked what it holds), at the document's file and line: the rule of
    `check_build` (the same references, resolved the same way), read from each document's own HTML,
    so a build can say it before anything is written. The documents are read on `jobs` processes."""
    by_source = {doc.source: doc for doc in documents}
    own_pages = [(path, doc) for path, source in sorted(page_sources(pages).items())
                 if (doc := by_source.get(source)) is not None and output_path(doc.url) == path]  # not an alias
    found = parallel.map_chunks(_broken_chunk, (files, config), own_pages, jobs, min_items=2000)
    return sorted((warning for warnings in found for warning in warnings),
                  key=lambda e: (e.path or "", e.line or 0, e.message))


def _broken_chunk(job: tuple[Collection[str], SiteConfig], chunk: Sequence[tuple[str, Document]]) -> list[list[SiteError]]:
    """broken_in_documents' warnings for each (output path, document) of `chunk`."""
    files, config = job
    netloc = urlsplit(config.base_url).netloc.lower()
    return [_broken_in(path, doc, files, config, netloc) for path, doc in chunk]


def _broken_in(path: str, doc: Document, files: Collection[str], config: SiteConfig, netloc: str) -> list[SiteError]:
    """The warnings for one document, published at `path`."""
    page_url = urljoin(config.base_url, _page_url(path, config.base_path))
    body = bytes(doc.html)
    suspects = _suspects(body, page_url, netloc, config.base_path, files)
    if not suspects:
        return []
    text = body.decode("utf-8", "replace") if suspects is _READ_ALL else _suspect_tags(body, suspects)
    refs = [ref for ref in references(path, text, config.base_url, netloc, config.base_path)
            if resolve(ref.target, files) is None]
    written = read_text(config.root / doc.source) if refs else ""
    warnings = []
    for ref in refs:
        message, hint = pointing_at_nothing(ref.kind, ref.raw)
        warnings.append(SiteError(doc.source, message, hint, line_of(written, ref.raw)))
    return warnings


_READ_ALL: list[int] = [-1]  # the answer for a page to be read whole: it has a <base> tag
_HIDDEN = re.compile(rb"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.S)


def _suspects(body: bytes, page_url: str, netloc: str, base_path: str, files: Collection[str]) -> list[int]:
    """Where in a document's HTML a URL-like attribute value may point at nothing: the offsets of
    such values (a superset of what _LinkParser reads, found in the HTML lower-cased, which keeps
    every offset; a value with a comma, a srcset perhaps, is left to the parser), outside comments,
    scripts and styles; [] when every one points elsewhere or at one of `files`; _READ_ALL when the
    page has a `<base>`."""
    lowered = body.lower()
    if b"<base" in lowered:
        return _READ_ALL
    found = []
    for match in _ATTRIBUTE_VALUE.finditer(lowered):
        if not _URL_NAME.search(lowered, max(match.start() - 16, 0), match.start()):
            continue
        value = body[match.start(match.lastindex):match.end(match.lastindex)].decode("utf-8", "replace")
        raw = html.unescape(value).strip()
        target = _target(raw, page_url, netloc, base_path)
        if "," in raw or (target is not None and resolve(target, files) is None):
            found.append(match.start())
    if found:
        hidden = [span.span() for span in _HIDDEN.finditer(lowered)]
        found = [at for at in found if not any(start <= at < end for start, end in hidden)]
    return found


def _quick_target(raw: str, netloc: str, base_path: str) -> str | None | EllipsisType:
    """`_target` of an address on another host, or of a path from the site's root (`/img/a.jpg`,
    `https://this.host/img/a.jpg`), without `urljoin`, which costs most of the check; ... for
    anything else (relative, `..`, `//`, control characters), which `urljoin` reads."""
    if "\t" in raw or "\n" in raw or "\r" in raw:
        return ...
    host = _HOST.match(raw)
    if host:
        if not host.group(1):
            return ...  # `https:///x` is read as `/x` on this page's host
        if host.group(1).lower() != netloc:
            return None  # another site
        raw = raw[host.end():]
    if not raw.startswith("/") or "//" in raw or "/." in raw or "\\" in raw:
        return ...
    target = unquote(raw.partition("#")[0].partition("?")[0])
    if not target.startswith(base_path):
        return base_path[len(base_path):] if target + "/" == base_path else None
    return target[len(base_path):]


def _suspect_tags(body: bytes, offsets: list[int]) -> str:
    """The tags that hold the values at `offsets`, each on the line it has in the page, so that the
    parser reads them (and only them) as it would read the whole page."""
    tags: dict[int, bytes] = {}
    for at in offsets:
        start = body.rfind(b"<", 0, at)
        end = body.find(b">", at)
        if start >= 0 and end >= 0:
            tags[start] = body[start:end + 1]
    parts, line = [], 1
    for start in sorted(tags):
        at_line = body.count(b"\n", 0, start) + 1
        parts.append("\n" * max(at_line - line, 0) + tags[start].decode("utf-8", "replace"))
        line = max(at_line, line) + tags[start].count(b"\n")
    return "".join(parts)


def pointing_at_nothing(kind: str, raw: str) -> tuple[str, str]:
    """(message, hint) for a reference of `kind` to `raw` that no file of the site answers."""
    what = {"image": "shows the image", "resource": "loads"}.get(kind, "links to")
    hint = ("add the file under static/ or content/, or fix the path" if kind != "link"
            else "fix the link, or add the page it points to")
    if _LOOKS_LIKE_HOST.match(raw):
        hint = f"it reads as a path on this site; for another site write https://{raw}"
    return f"{what} {raw}, which is not on the site", hint


def line_of(text: str, raw: str) -> int | None:
    """The line of `text` where `raw` (or its HTML-escaped form) is written, if it is."""
    for needle in (raw, html.escape(raw, quote=True), raw.replace("&", "&amp;")):
        at = text.find(needle) if needle else -1
        while at >= 0:
            end = at + len(needle)
            # a whole URL, not the start of a longer one: /about/ must not match /about/team/
            if end == len(text) or not (text[end].isalnum() or text[end] in "/-_.%~"):
                return text.count("\n", 0, at) + 1
            at = text.find(needle, at + 1)
    return None


def page_sources(pages: Iterable[OutputPage]) -> dict[str, str]:
    """Output path -> the content source it was rendered from, for post and page output."""
    found = {}
    for page in pages:
        view = page.context.get("page")
        source = view.get("source") if isinstance(view, dict) else None
        if page.context.get("kind") == "alias":
            source = page.context.get("source") or source
        if isinstance(source, str):
            found[page.path] = source.split(" (")[0]
    return found


def resolve(target: str, files: Collection[str]) -> str | None:
    """The output file a site path is served from, or None if there is none."""
    if target == "" or target.endswith("/"):
        candidate = target + "index.html"
        return candidate if candidate in files else None
    if target in files:
        return target
    if f"{target}/index.html" in files:  # the server redirects /x to /x/
        return f"{target}/index.html"
    return None


def _page_url(path: str, base_path: str) -> str:
    """The URL path an output file is served at: 'a/index.html' -> '/base/a/'."""
    url = path[: -len("index.html")] if path == "index.html" or path.endswith("/index.html") else path
    return base_path + url


def references(path: str, text: str, base_url: str, netloc: str, base_path: str) -> Iterable[Reference]:
    """Every internal URL in one output file, resolved against the page's own URL."""
    page_url = urljoin(base_url, _page_url(path, base_path))
    if path.endswith(".xml"):
        raws = []
        for match in _XML_URL.finditer(text):
            raw = html.unescape(match.group(2) or match.group(3) or "")
            raws.append((raw, text.count("\n", 0, match.start()) + 1, "link"))
    else:
        parser = _LinkParser()
        parser.feed(text)
        parser.close()
        raws = parser.found
        if parser.base:
            page_url = urljoin(page_url, parser.base)
    for raw, line, kind in raws:
        raw = raw.strip()
        target = _target(raw, page_url, netloc, base_path)
        if target is not None:
            yield Reference(path, line, raw, target, kind)


def _target(raw: str, page_url: str, netloc: str, base_path: str) -> str | None:
    """The path below the site's base path that `raw`, written on the page at `page_url`, points at;
    None when it points elsewhere (another site, a fragment of the page, mailto: and the like)."""
    if not raw or raw.startswith("#") or _SKIP_SCHEMES.match(raw):
        return None
    quick = _quick_target(raw, netloc, base_path)
    if quick is not ...:
        return quick
    parts = urlsplit(urljoin(page_url, raw))
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != netloc:
        return None  # another site
    target = unquote(parts.path)
    if not target.startswith(base_path):
        if target + "/" != base_path:
            return None  # the same host, but outside this site's base path
        target = base_path
    return target[len(base_path):]


class _LinkParser(HTMLParser):
    """Collects (url, line, kind) for every URL attribute; `base` is a <base href> if there is one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, int, str]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        line = self.getpos()[0]
        if tag == "base" and values.get("href"):
            self.base = values["href"]
            return
        if tag == "meta":
            key = (values.get("property") or values.get("name") or "").lower()
            if key in _META_URLS and values.get("content"):
                self.found.append((values["content"], line, "image" if "image" in key else "link"))
            return
        for attr in _URL_ATTRS.get(tag, ()):
            value = values.get(attr)
            if not value:
                continue
            kind = "image" if tag in _IMAGE_TAGS else "link"
            if tag in ("script", "link") and (tag == "script" or "stylesheet" in values.get("rel", "").lower()):
                kind = "resource"
            if attr == "srcset":
                for candidate in value.split(","):
                    url = candidate.strip().split(" ")[0]
                    if url:
                        self.found.append((url, line, kind))
            else:
                self.found.append((value, line, kind))

    handle_startendtag = handle_starttag


def read_text(path: Path) -> str:
    """A file's text for finding a line in it; empty when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
