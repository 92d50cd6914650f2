"""The references of a page's HTML to other files of the site, and whether each points at something:
the one rule that `bitopia check` applies to a built site and the build applies to each post's own HTML
(`broken_in_documents`), so a broken image or link is found the same way in both."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Collection, Iterable, Sequence
from urllib.parse import unquote, urljoin, urlsplit

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
_ATTRIBUTE_VALUE = re.compile(rb"""(?:href|src|srcset|poster|data|content)\s*=+\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
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


def broken_in_documents(pages: Sequence[OutputPage], static: Collection[str], documents: Iterable[Document],
                        config: SiteConfig) -> list[SiteError]:
    """Warnings for the images and local links written in the posts and pages this build publishes
    that point at nothing it makes (`pages`, `static`), at the document's file and line: the rule of
    `check_build` (the same references, resolved the same way), read from each document's own HTML,
    so a build can say it before anything is written."""
    files = set(static) | {page.path for page in pages}
    netloc = urlsplit(config.base_url).netloc.lower()
    by_source = {doc.source: doc for doc in documents}
    warnings: list[SiteError] = []
    for path, source in sorted(page_sources(pages).items()):
        doc = by_source.get(source)
        if doc is None or output_path(doc.url) != path:  # an alias of it, or not a document's own page
            continue
        page_url = urljoin(config.base_url, _page_url(path, config.base_path))
        if _all_resolve(bytes(doc.html), page_url, netloc, config.base_path, files):
            continue
        text = doc.html.decode("utf-8", "replace")
        refs = [ref for ref in references(path, text, config.base_url, netloc, config.base_path)
                if resolve(ref.target, files) is None]
        written = read_text(config.root / source) if refs else ""
        for ref in refs:
            message, hint = pointing_at_nothing(ref.kind, ref.raw)
            warnings.append(SiteError(source, message, hint, line_of(written, ref.raw)))
    return sorted(warnings, key=lambda e: (e.path or "", e.line or 0, e.message))


def _all_resolve(body: bytes, page_url: str, netloc: str, base_path: str, files: set[str]) -> bool:
    """A quick look at a document's HTML that is never wrong when it says True: every value of a
    URL-like attribute (a superset of what _LinkParser reads, found in the HTML lower-cased, which
    keeps every offset) points elsewhere or at one of `files`. False sends the document to the full
    reading: it has a `<base>` tag, a value with a comma (a srcset, perhaps), or one that points at nothing."""
    lowered = body.lower()
    if b"<base" in lowered:
        return False
    for match in _ATTRIBUTE_VALUE.finditer(lowered):
        value = body[match.start(match.lastindex):match.end(match.lastindex)].decode("utf-8", "replace")
        raw = html.unescape(value).strip()
        host = _HOST.match(raw)
        if host and host.group(1).lower() != netloc:
            continue  # another site, as _target finds
        if "," in raw:
            return False
        target = _target(raw, page_url, netloc, base_path)
        if target is not None and resolve(target, files) is None:
            return False
    return True


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
        if not needle:
            continue
        for match in re.finditer(re.escape(needle), text):
            end = match.end()
            # a whole URL, not the start of a longer one: /about/ must not match /about/team/
            if end == len(text) or not (text[end].isalnum() or text[end] in "/-_.%~"):
                return text.count("\n", 0, match.start()) + 1
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


def resolve(target: str, files: set[str]) -> str | None:
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
