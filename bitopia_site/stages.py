"""The stages a build runs, shared by the whole build (build.py) and the short way after an edit
(patch.py): the site's config and theme, its documents parsed (in parallel, through the cache), the
leaf bundles' resources, what every template sees, and how pages are fingerprinted."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from bitopia_site import __version__, parallel
from bitopia_site.cache import Cache, DocumentCache, code_version
from bitopia_site.config import SiteConfig, load_config
from bitopia_site.copier import read_ahead
from bitopia_site.content import HTML_SUFFIXES, ContentSettings, Parsed, parse, source_digest
from bitopia_site.errors import Report, SiteError
from bitopia_site.fingerprint import Fingerprinter, files_digest
from bitopia_site.images import (FORMAT as IMAGES_FORMAT, ImageSet, ImageSettings, image_set, measure_ahead,
                                 problems_in)
from bitopia_site.menus import site_menus
from bitopia_site.model import Document, OutputPage, SiteIndex, Source
from bitopia_site.publication import Visibility
from bitopia_site.render import Renderer
from bitopia_site.shortcode_templates import merge_unknown, site_shortcodes
from bitopia_site.sources import MARKDOWN_SUFFIXES, SiteFiles, read_markdown
from bitopia_site.theme import Theme, load_theme
from bitopia_site.views import Views


@dataclass(frozen=True)
class BuildOptions:
    """How to build: what to publish, where links point, how many processes, whether to cache."""

    drafts: bool = False
    future: bool = False
    expired: bool = False
    base_url: str | None = None
    strict: bool = False
    jobs: int = 0  # 0: every core
    now: datetime | None = None  # the build time; tests inject one
    post_process: Callable[[OutputPage, str], str] | None = None
    cache: bool = True
    in_place: bool = False  # update the output file by file instead of swapping it (a dev server's own folder)
    progress: Callable[[str, int, int], None] | None = None  # (stage, done, total), for a terminal
    search: bool = True  # make the search index where the site asks for one (serve's builds do not: live_search.py)
    images: bool = True  # measure images and make their copies where the site asks for them (`--no-images`: not)


@dataclass
class RenderedSite:
    """A rendered site in memory: every output file, and what it came from.

    A page not rendered again (its fingerprint is the one the output holds) maps to None: "keep
    the file on disk"; so does a page its renderer wrote there itself.
    """

    config: SiteConfig
    index: SiteIndex
    rendered: dict[str, bytes | None]
    static: dict[str, Path]
    report: Report
    pages: list[OutputPage] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)
    rendered_count: int = 0
    horizon: float = float("inf")  # when time alone changes what is published (a post comes due)
    # What a later edit needs to re-render only the pages it touches (incremental.py):
    documents: dict[str, Document] = field(default_factory=dict)  # every parsed document by source
    views: Views | None = None
    renderer: Renderer | None = None
    finger: Fingerprinter | None = None
    users: dict[str, list[int]] = field(default_factory=dict)  # source -> indexes of the pages showing it
    global_uses: frozenset[str] = frozenset()  # sources every page shows (through the site's globals)
    theme: Theme | None = None
    visibility: Visibility | None = None  # what the build published
    with_refs: frozenset[str] = frozenset()  # sources that link to other pages by `ref`/`relref`
    # What the next build needs to plan only the pages an edit touches (see patch.py):
    placements: dict[str, str] = field(default_factory=dict)  # source -> digest of its place in the site
    shown_on: dict[str, tuple[str, ...]] = field(default_factory=dict)  # source -> paths of the pages showing it
    patched: bool = False  # only the pages an edit touched were planned; no other input changed
    scratch: Any = None  # a temporary folder holding files of `static` (image copies made without the cache)


def load_site(root: Path, options: BuildOptions, report: Report) -> tuple[SiteConfig, Theme]:
    """The site's config (with the options' base URL) and its theme; raises SiteError."""
    config = load_config(root, report)
    if options.base_url:
        config = config.with_base_url(options.base_url)
    return config, load_theme(config.root, config.theme)

def page_suffixes(config: SiteConfig) -> tuple[str, ...]:
    """The endings of the content files that are pages: Markdown, and HTML in a Hugo site."""
    return MARKDOWN_SUFFIXES + (HTML_SUFFIXES if config.hugo else ())

def content_settings(config: SiteConfig) -> ContentSettings:
    return ContentSettings(config.timezone, config.taxonomies, tuple(sorted(config.permalinks.items())),
                           config.summary_words, config.hugo, config.lower_paths,
                           shortcodes=site_shortcodes(config), raw_html=config.raw_html, ugly_urls=config.ugly_urls,
                           engine=config.markdown_engine)


def parse_all(root: Path, files: SiteFiles, settings: ContentSettings, report: Report, jobs: int,
              cache: DocumentCache, progress: Callable[[int], None] | None = None,
              visibility: Visibility | None = None) -> list[Document]:
    """Every Markdown file's document, in path order: unchanged ones from the cache, the rest
    parsed in parallel (the files not read yet are read there); problems go to the report, but
    for a file the build leaves out (a draft, say: `visibility`), as Hugo does."""
    results: dict[str, Parsed] = {}
    for path in files.unchanged:
        cached = cache.get(path, None)
        if cached is None:  # listed as unchanged from this very cache: cannot happen, but never guess
            raise RuntimeError(f"{path}: missing from the document cache")
        results[path] = cached
    digests = {s.path: source_digest(s, settings) for s in files.sources}
    missing = []
    for source in files.sources:
        cached = cache.get(source.path, digests[source.path])
        if cached is None:
            missing.append(source)
        else:
            results[source.path] = cached
    fresh = parallel.map_chunks(_parse_chunk, (settings, root), [*missing, *files.unread], jobs,
                                progress=progress)
    for source, parsed in zip(missing, fresh):
        results[source.path] = parsed
    for source in files.sources:
        cache.put(source.path, digests[source.path], results[source.path], files.signatures.get(source.path))
    for path, (read, digest, signature) in zip(files.unread, fresh[len(missing):]):
        if isinstance(read, SiteError):
            report.error(read)  # cannot be read: as read_site reports it
        elif read is not None:  # None: gone since it was listed
            results[path] = read
            cache.put(path, digest, read, signature)
    cache.keep_only(set(results))  # saved by the caller, when it has a moment
    documents = []
    warnings: list[SiteError] = []
    for path in sorted(results):
        parsed = results[path]
        for err in parsed.errors if visibility is None or visibility.judges(parsed.status) else ():
            report.error(err)
        warnings += parsed.warnings
        if parsed.document is not None:
            documents.append(parsed.document)
    for warning in merge_unknown(warnings):  # one for each shortcode that cannot run, naming its files
        report.warn(warning)
    return documents

def _parse_chunk(job: tuple[ContentSettings, Path], chunk: Sequence[Source | str]) -> list[Any]:
    """Parse Sources; a path (of `files.unread`) is read first: (Parsed, the text's digest, the
    file's signature), or (the error that kept it from being read, or None when gone, "", None)."""
    settings, root = job
    root_real = os.path.realpath(root)
    read_ahead(os.path.join(root, item) for item in chunk if not isinstance(item, Source))
    out: list[Any] = []
    for item in chunk:
        if isinstance(item, Source):
            out.append(parse(item, settings))
            continue
        read, signature = read_markdown(root, item, root_real)
        if isinstance(read, Source):
            parsed = parse(read, settings)
            digest = parsed.document.digest if parsed.document is not None else source_digest(read, settings)
            out.append((parsed, digest, signature))
        else:
            out.append((read, "", None))
    return out

def add_resources(files: SiteFiles, documents: list[Document], visibility: Visibility) -> None:
    """Add to the static files the resources of each leaf bundle that is published with them,
    beside the page's own URL (as Hugo does), so its relative links and images keep working."""
    shown = {doc.source: doc.url for doc in documents if visibility.resources_of(doc)}
    for source, resources in files.resources.items():
        url = shown.get(source)
        if url is None:
            continue
        bundle = source.removeprefix("content/").rpartition("/")[0] + "/"  # posts/b/index.md -> posts/b/
        beside = url.lstrip("/").rpartition("/")[0]  # /b/ -> b, /b.html -> ''
        for rel, path in resources.items():
            files.static[f"{beside}/{rel.removeprefix(bundle)}".lstrip("/")] = path

def check_images(documents: Sequence[Document], static: dict[str, Path], images: ImageSet, report: Report) -> None:
    """Warn of each featured image that is not in the site, and of each image shown that cannot be
    read or is too large (images.py)."""
    for warning in problems_in(documents, images):
        report.warn(warning)
    for doc in documents:
        image = doc.featured
        if image is not None and image.file is not None and image.file not in static:
            report.warn(SiteError(doc.source, f"featured image not found: looked for content/{image.file} "
                                  f"and static/{image.file}", "add the image there, or fix `featured:` / "
                                  "`featuredpath:`"))

def image_settings(config: SiteConfig, options: BuildOptions) -> ImageSettings:
    """The site's image settings, off with `--no-images`."""
    return config.images if options.images else ImageSettings(enabled=False)


def measure_images_ahead(config: SiteConfig, options: BuildOptions, static: dict[str, Path],
                         cache: Cache) -> Future[tuple[dict[str, Any], dict[str, Any]]] | None:
    """Start measuring the site's images on a thread of this process, which has little to do while
    the posts are parsed in others: (what the cache kept, what is known now), for `site_images`."""
    settings = image_settings(config, options)
    if not settings.enabled:
        return None
    kept = cache.load("images", _images_kind(settings))
    pool = ThreadPoolExecutor(1)
    measuring = pool.submit(lambda: (kept, measure_ahead(dict(static), settings, kept, True)))
    pool.shutdown(wait=False)  # its thread ends when the work is done
    return measuring


def site_images(config: SiteConfig, theme: Theme, static: dict[str, Path], cache: Cache, home: Path | None,
                options: BuildOptions, ahead: Future[tuple[dict[str, Any], dict[str, Any]]] | None = None,
                ) -> ImageSet:
    """The site's images among its static files, their smaller copies made in `home` (once: what
    was made is kept in the cache), and the copies added to `static`; `ahead`: what
    `measure_images_ahead` found."""
    settings = image_settings(config, options)
    if not settings.enabled:
        return ImageSet(base_path=config.base_path)
    if ahead is not None:
        kept, known = ahead.result()
    else:
        kept = known = cache.load("images", _images_kind(settings))
    sizes = {**theme.params, **config.params}.get("image_sizes")
    jobs = options.jobs or parallel.default_jobs()
    images, keep = image_set(static, settings, home, known, jobs, config.base_path,
                             sizes if isinstance(sizes, str) and sizes else "100vw", config.root)
    if keep != kept:
        cache.save("images", _images_kind(settings), keep)
    static.update(images.files)
    return images


def _images_kind(settings: ImageSettings) -> str:
    """The cache's key of what images are: other widths or quality make other copies."""
    return f"{IMAGES_FORMAT}:{settings!r}"

def template_globals(config: SiteConfig, theme_params: dict[str, Any], index: SiteIndex, views: Views,
                     now: datetime, static: dict[str, Path]) -> dict[str, Any]:
    """What every template sees as `site`."""
    params = {**theme_params, **config.params}
    menus = site_menus(config.menus, index, config.hugo)
    taxonomies = {t.name: {"name": t.name, "url": t.url, "terms": [views.term(term) for term in t.terms]}
                  for t in index.taxonomies}

    def has_file(path: str) -> bool:
        """True when the built site will hold `path` (`/img/me.jpg`): lets a theme skip an image
        the site does not have (e.g. an avatar named in a migrated config)."""
        return str(path).split("?")[0].split("#")[0].lstrip("/") in static

    return {
        "site": {
            "title": config.title, "base_url": config.base_url, "author": config.author,
            "description": config.description, "language": config.language, "params": params,
            "menus": menus, "taxonomies": taxonomies, "copyright": config.copyright,
            "recent": views.links(index.posts[:5]),
            "sections": [{"name": s.name, "url": s.url, "title": s.title} for s in index.sections],
            "pages": views.links(index.pages), "post_count": len(index.posts),
            "generator": f"bitopia {__version__}", "build_year": now.year,
            "feed_full_content": config.feed_full_content, "has_file": has_file,
            "search": config.search, "feed_url": f"/{config.feed_name}",
        },
        "image_attrs": views.images.attributes,  # an image's width, height and srcset (images.py)
    }

def fingerprinter(views: Views, config: SiteConfig, theme: Theme, site_globals: dict[str, Any],
                  static: dict[str, Path], options: BuildOptions) -> tuple[Fingerprinter, frozenset[str]] | None:
    """The fingerprinter of this build's pages, and the documents every page shows through the
    site's globals; None when pages cannot be fingerprinted (an unknown post-processor)."""
    process = options.post_process
    process_key = ""
    if process is not None:
        qualname = getattr(process, "__qualname__", "<locals>")
        if "<locals>" in qualname or not hasattr(process, "__module__"):
            return None
        process_key = f"{process.__module__}.{qualname}"
    finger = Fingerprinter(views.digests, "", views.sources, views.link_ids)
    global_uses: set[str] = set()
    finger.global_key = finger.value([code_version(), config.fingerprint(), files_digest(theme.template_dirs),
                                      process_key, site_globals, sorted(static), views.images.key], global_uses)
    return finger, frozenset(global_uses)

def publish_horizon(documents: list[Document], now: datetime) -> float:
    """The first moment after `now` at which time alone changes the site: a post comes due or
    expires, or a new year begins (pages show the build's year)."""
    moments = [datetime(now.year + 1, 1, 1, tzinfo=now.tzinfo or timezone.utc).timestamp()]
    moments += [due.timestamp() for d in documents if (due := d.publish_date or d.date) and due > now]
    moments += [d.expiry_date.timestamp() for d in documents if d.expiry_date and d.expiry_date > now]
    return min(moments, default=float("inf"))
