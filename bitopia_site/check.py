"""Check a production build before it goes live: internal links and images resolve, no draft leaks.

`check_build` reads a rendered site in memory (the same bytes `publish` writes) and returns every
problem as a SiteError that names the file a user can fix: the post, the template or site.yaml
where the offending link is written, with its line, when it can be found there.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

from bitopia_site import parallel, search
from bitopia_site.build import BuildOptions, render_site
from bitopia_site.errors import SiteError
from bitopia_site.links import (Reference, line_of, page_sources, pointing_at_nothing, read_text, references,
                                resolve)
from bitopia_site.publication import Visibility
from bitopia_site.sources import walk
from bitopia_site.stages import RenderedSite
from bitopia_site.theme import load_theme
from bitopia_site.urls import output_path
from bitopia_site.wording import plural


@dataclass(frozen=True, slots=True)
class Unpublished:
    """A document the production build leaves out, and why: it must not be linked or present."""

    source: str
    title: str
    url: str
    aliases: tuple[str, ...]
    reason: str


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
        found = plural(len(self.problems), "problem") if self.problems else "no problems"
        return (f"checked {plural(self.pages, 'page')} and {self.feeds} feeds and sitemaps "
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
    if config.search:  # a build adds the index after rendering (build.py); check renders without one
        files |= set(search.INTERFACE)
    result = CheckResult()
    texts = _fixable_texts(site)
    sources = page_sources(site.pages)

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
            resolved = resolve(ref.target, files)
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
        result.problems += _located(refs, raw, texts, sources, *pointing_at_nothing(kind, raw))
    result.problems.sort(key=lambda e: (e.path or "", e.line or 0, e.message))
    return result


def _located(refs: list[Reference], raw: str, texts: dict[str, str], sources: dict[str, str],
             message: str, hint: str) -> list[SiteError]:
    """Errors at the files a user edits: the page's own source if the link is written there, else any
    source, template or config that has it, else the first output file that shows it."""
    places: dict[str, int] = {}
    for ref in refs:
        own = sources.get(ref.file)
        line = line_of(texts.get(own, ""), raw) if own else None
        if own and line:
            places.setdefault(own, line)
    if not places:
        for name, text in texts.items():
            line = line_of(text, raw)
            if line:
                places[name] = line
    if places:
        return [SiteError(name, message, hint, line) for name, line in sorted(places.items())]
    first = refs[0]
    others = len({r.file for r in refs}) - 1
    also = f" (and on {plural(others, 'other page')})" if others else ""
    return [SiteError(first.file, f"(a built page) {message}{also}",
                      f"{hint}; the link is made by the theme or a generated page", first.line)]


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
            texts.setdefault(name, read_text(path))
    content = root / "content"
    for rel, path in walk(content, root):
        if path.suffix.lower() in (".md", ".markdown", ".html"):
            texts[f"content/{rel}"] = read_text(path)
    if site.config.source_file:
        texts[site.config.source_file] = read_text(root / site.config.source_file)
    return texts


def _as_page(target: str) -> str:
    return target + "index.html" if target == "" or target.endswith("/") else target


def _references_chunk(shared: tuple[dict[str, bytes | None], str, str, str], paths: Sequence[str]) -> list[list[Reference]]:
    rendered, base_url, netloc, base_path = shared
    return [list(references(path, (rendered[path] or b"").decode("utf-8", "replace"), base_url, netloc,
                             base_path)) for path in paths]
