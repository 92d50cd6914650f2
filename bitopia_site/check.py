"""Check a production build before it goes live: internal links and images resolve, no draft leaks.

`check_build` reads a rendered site in memory (the same bytes `publish` writes) and returns every
problem as a SiteError that names the file a user can fix: the post, the template or site.yaml
where the offending link is written, with its line, when it can be found there.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Collection, Iterable, Sequence
from urllib.parse import unquote, urljoin, urlsplit

from bitopia_site import parallel
from bitopia_site.build import BuildOptions, render_site
from bitopia_site.stages import RenderedSite
from bitopia_site.errors import SiteError
from bitopia_site.config import SiteConfig
from bitopia_site.model import Document, OutputPage
from bitopia_site.publication import Visibility
from bitopia_site.sources import walk
from bitopia_site.theme import load_theme
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
class Unpublished:
    """A document the production build leaves out, and why: it must not be linked or present."""

    source: str
    title: str
    url: str
    aliases: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Reference:
    """One URL found in an output file: where, what kind, as written and as resolved."""

    file: str  # output path, e.g. 2014/08/06/x/index.html
    line: int
    raw: str
    target: str  # path below the site's base path, unquoted, without query or fragment: 'tags/x/'
    kind: str  # "link" | "image" | "resource"


@dataclass
class CheckResult:
    """What `check_build` looked at, and the problems it found (empty when the site is fine)."""

    pages: int = 0
    feeds: int = 0
    references: int = 0
    problems: list[SiteError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        count = len(self.problems)
        found = f"{count} problem{'s' if count != 1 else ''}" if count else "no problems"
        return (f"checked {self.pages} pages and {self.feeds} feeds and sitemaps "
                f"({self.references} internal links and images): {found}")


def production_options(now: datetime | None = None, jobs: int = 0, strict: bool = False) -> BuildOptions:
    """How publish and check build: no drafts, no future or expired posts, the config's base URL."""
    return BuildOptions(drafts=False, future=False, expired=False, base_url=None, strict=strict, jobs=jobs,
                        now=now or datetime.now(timezone.utc))


def check_site(root: Path, now: datetime | None = None, jobs: int = 0,
               strict: bool = False) -> tuple[RenderedSite, CheckResult]:
    """Build the site for production in memory and check it; raises BuildFailed if it does not build."""
    options = production_options(now, jobs, strict)
    site = render_site(root, options)
    assert options.now is not None
    return site, check_build(site, unpublished_documents(site, options.now), jobs)


def unpublished_documents(site: RenderedSite, now: datetime) -> list[Unpublished]:
    """Every document of the site the production build leaves out (a draft, future, expired or
    headless one), with the URL it would have and why."""
    visibility = Visibility.of_build(now, False, False, False, site.config)
    found = []
    for source in sorted(site.documents):
        doc = site.documents[source]
        reason = None if doc.is_section_index else visibility.reason(doc)
        if reason is not None:
            found.append(Unpublished(doc.source, doc.title, doc.url, doc.aliases, reason))
    return found


def check_build(site: RenderedSite, unpublished: Sequence[Unpublished] = (), jobs: int = 0) -> CheckResult:
    """Every internal link and image of the rendered site resolves; no unpublished page leaks."""
    config = site.config
    base = config.base_url
    origin = urlsplit(base)
    files = set(site.rendered) | set(site.static)
    result = CheckResult()
    texts = _fixable_texts(site)
    sources = _page_sources(site.pages)

    seen_paths: dict[str, str] = {}
    for page in site.pages:
        if page.path in seen_paths:
            result.problems.append(SiteError(page.path, f"is made twice, for {seen_paths[page.path]} and {page.url}",
                                             "give one of them another url or slug"))
        seen_paths[page.path] = page.url

    published_urls = {page.url for page in site.pages}
    hidden: dict[str, Unpublished] = {}
    for doc in unpublished:
        for url in (doc.url, *doc.aliases):
            if url in published_urls:
                continue  # a published page owns this URL (a draft rewrite of a live page, say)
            hidden[output_path(url)] = doc
            if output_path(url) in files:
                result.problems.append(SiteError(
                    doc.source, f"{doc.reason}, but the output has a file at its URL {url} ({output_path(url)})",
                    "remove that file from static/ or content/, or publish the document"))

    broken: dict[tuple[str, str], list[Reference]] = defaultdict(list)
    leaks: dict[tuple[str, str], list[Reference]] = defaultdict(list)
    paths = sorted(p for p, data in site.rendered.items()
                   if data is not None and p.endswith((".html", ".htm", ".xml")))  # None: reused, not rendered
    result.pages = sum(p.endswith((".html", ".htm")) for p in paths)
    result.feeds = len(paths) - result.pages
    shared = (site.rendered, base, origin.netloc.lower(), config.base_path)
    per_file = parallel.map_chunks(_references_chunk, shared, paths, jobs or parallel.default_jobs(),
                                   min_items=400)
    for refs in per_file:
        for ref in refs:
            result.references += 1
            resolved = _resolve(ref.target, files)
            names = [resolved] if resolved else [_as_page(ref.target), f"{ref.target}/index.html"]
            leaked = next((hidden[name] for name in names if name in hidden), None)
            if leaked is not None:
                leaks[(leaked.source, ref.raw)].append(ref)
            elif resolved is None:
                broken[(ref.kind, ref.raw)].append(ref)

    for (source, raw), refs in sorted(leaks.items()):
        doc = next(d for d in unpublished if d.source == source)
        result.problems += _located(refs, raw, texts, sources,
                                    f"links to {raw}, which is {source}; it {doc.reason} and is not published",
                                    "remove the link, or publish it (draft: false, a date in the past)")
    for (kind, raw), refs in sorted(broken.items()):
        result.problems += _located(refs, raw, texts, sources, *_pointing_at_nothing(kind, raw))
    result.problems.sort(key=lambda e: (e.path or "", e.line or 0, e.message))
    return result


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
    for path, source in sorted(_page_sources(pages).items()):
        doc = by_source.get(source)
        if doc is None or output_path(doc.url) != path:  # an alias of it, or not a document's own page
            continue
        page_url = urljoin(config.base_url, _page_url(path, config.base_path))
        if _all_resolve(bytes(doc.html), page_url, netloc, config.base_path, files):
            continue
        text = doc.html.decode("utf-8", "replace")
        refs = [ref for ref in _references(path, text, config.base_url, netloc, config.base_path)
                if _resolve(ref.target, files) is None]
        written = _read(config.root / source) if refs else ""
        for ref in refs:
            message, hint = _pointing_at_nothing(ref.kind, ref.raw)
            warnings.append(SiteError(source, message, hint, _line_of(written, ref.raw)))
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
        if target is not None and _resolve(target, files) is None:
            return False
    return True


def _pointing_at_nothing(kind: str, raw: str) -> tuple[str, str]:
    """(message, hint) for a reference of `kind` to `raw` that no file of the site answers."""
    what = {"image": "shows the image", "resource": "loads"}.get(kind, "links to")
    hint = ("add the file under static/ or content/, or fix the path" if kind != "link"
            else "fix the link, or add the page it points to")
    if _LOOKS_LIKE_HOST.match(raw):
        hint = f"it reads as a path on this site; for another site write https://{raw}"
    return f"{what} {raw}, which is not on the site", hint


def _located(refs: list[Reference], raw: str, texts: dict[str, str], sources: dict[str, str],
             message: str, hint: str) -> list[SiteError]:
    """Errors at the files a user edits: the page's own source if the link is written there, else any
    source, template or config that has it, else the first output file that shows it."""
    places: dict[str, int] = {}
    for ref in refs:
        own = sources.get(ref.file)
        line = _line_of(texts.get(own, ""), raw) if own else None
        if own and line:
            places.setdefault(own, line)
    if not places:
        for name, text in texts.items():
            line = _line_of(text, raw)
            if line:
                places[name] = line
    if places:
        return [SiteError(name, message, hint, line) for name, line in sorted(places.items())]
    first = refs[0]
    others = len({r.file for r in refs}) - 1
    also = f" (and on {others} other page{'s' if others != 1 else ''})" if others else ""
    return [SiteError(first.file, f"(a built page) {message}{also}",
                      f"{hint}; the link is made by the theme or a generated page", first.line)]


def _line_of(text: str, raw: str) -> int | None:
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


def _fixable_texts(site: RenderedSite) -> dict[str, str]:
    """The files a link can be written in: content sources, templates of the site and theme, config."""
    root = site.config.root
    texts: dict[str, str] = {}
    theme = load_theme(root, site.config.theme)
    for folder in theme.template_dirs:
        for rel, path in walk(folder, folder):
            try:
                name = path.resolve().relative_to(root.resolve()).as_posix()
            except ValueError:  # the packaged theme: name it in full
                name = str(path)
            texts.setdefault(name, _read(path))
    content = root / "content"
    for rel, path in walk(content, root):
        if path.suffix.lower() in (".md", ".markdown", ".html"):
            texts[f"content/{rel}"] = _read(path)
    if site.config.source_file:
        texts[site.config.source_file] = _read(root / site.config.source_file)
    return texts


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _page_sources(pages: Iterable[OutputPage]) -> dict[str, str]:
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


def _resolve(target: str, files: set[str]) -> str | None:
    """The output file a site path is served from, or None if there is none."""
    if target == "" or target.endswith("/"):
        candidate = target + "index.html"
        return candidate if candidate in files else None
    if target in files:
        return target
    if f"{target}/index.html" in files:  # the server redirects /x to /x/
        return f"{target}/index.html"
    return None


def _as_page(target: str) -> str:
    return target + "index.html" if target == "" or target.endswith("/") else target


def _page_url(path: str, base_path: str) -> str:
    """The URL path an output file is served at: 'a/index.html' -> '/base/a/'."""
    url = path[: -len("index.html")] if path == "index.html" or path.endswith("/index.html") else path
    return base_path + url


def _references_chunk(shared: tuple[dict[str, bytes | None], str, str, str], paths: Sequence[str]) -> list[list[Reference]]:
    rendered, base_url, netloc, base_path = shared
    return [list(_references(path, (rendered[path] or b"").decode("utf-8", "replace"), base_url, netloc,
                             base_path)) for path in paths]


def _references(path: str, text: str, base_url: str, netloc: str, base_path: str) -> Iterable[Reference]:
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
