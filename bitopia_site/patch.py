"""A rebuild after edits that leave every post where it was in the site.

When the only files changed since the last build are posts, and each keeps its title, dates,
URL, terms and the rest of its placement, the site's index, lists and links are what they were.
Only the pages that showed those posts (the record of the last build names them) are planned,
fingerprinted and rendered; every other page is kept as it is on disk. Anything else returns
None, and the caller makes a whole build, which reports every problem.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from bitopia_site import parallel, urls
from bitopia_site.build import (BuildOptions, SiteBuild, check_featured, content_settings, fingerprinter,
                                load_site, publish_horizon, render_chunk, template_globals)
from bitopia_site.cache import Cache, DocumentCache
from bitopia_site.content import ContentSettings, Parsed, parse, source_digest
from bitopia_site.errors import Report, SiteError
from bitopia_site.index import build_index
from bitopia_site.model import Document, Source
from bitopia_site.plan import plan_site
from bitopia_site.publication import Visibility, apply_cascades
from bitopia_site.refs import resolve as resolve_refs
from bitopia_site.render import Renderer, make_environment
from bitopia_site.sources import read_source
from bitopia_site.views import Views, placement_digest

_RECORD_KEYS = ("fingerprints", "counts", "inputs", "placements", "shown_on", "static", "global_key", "state")


def edited_sources(root: Path, last: dict[str, Any], inputs: dict[str, object]) -> list[str] | None:
    """The documents (`content/posts/x.md`) whose files changed since the build `last` records;
    None when anything else changed: a file added, removed or renamed, a template, a static
    file, the config, the options."""
    before = last["inputs"]
    if len(before) != len(inputs):
        return None
    prefix = f"{root}{os.sep}"
    edited = []
    for path, signature in inputs.items():
        if path not in before:
            return None
        if before[path] == signature:
            continue
        rel = path[len(prefix):].replace(os.sep, "/") if path.startswith(prefix) else ""
        if rel not in last["placements"]:
            return None
        edited.append(rel)
    return edited


def patch_site(root: Path, options: BuildOptions, last: dict[str, Any], inputs: dict[str, object],
               sink: Callable[[str, bytes | None], None]) -> SiteBuild | None:
    """Render only the pages showing the edited documents, or None when a whole build is needed."""
    root = root.resolve()
    now = options.now or datetime.now(timezone.utc)
    if (any(last.get(key) is None for key in _RECORD_KEYS) or now.timestamp() >= last.get("horizon", 0)
            or len(last["fingerprints"]) != last["counts"][0]):
        return None
    edited = edited_sources(root, last, inputs)
    if not edited:
        return None
    report = Report()
    try:
        config, theme = load_site(root, options, report)
    except SiteError:
        return None
    settings = content_settings(config)
    cache = Cache(root, report, options.cache)
    documents = _documents(root, last, inputs, edited, DocumentCache(cache, settings.key()), settings, options,
                           report)
    if documents is None:
        return None
    visibility = Visibility(now, options.drafts, options.future, options.expired)
    ref_errors: list[SiteError] = []
    documents = resolve_refs(documents, visibility.shows, config.base_url, ref_errors)
    if ref_errors:
        return None  # a whole build reports them
    index = build_index(documents, visibility,
                        config.taxonomies, config.main_sections)
    static = {rel: Path(path) for rel, path in last["static"].items()}
    check_featured([doc for doc in index.documents if doc.source in edited], static, report)
    views = Views(index, now, config.base_path)
    pages = plan_site(index, views, config.paginate, config.feed_limit,
                      only={path for rel in edited for path in last["shown_on"].get(rel, ())}, static=static,
                      layouts_optional=config.hugo, term_title=urls.hugo_title if config.hugo else str)
    site_globals = template_globals(config, theme.params, index, views, now, static)
    made = fingerprinter(views, config, theme, site_globals, static, options)
    if made is None or made[0].global_key != last["global_key"]:
        return None
    finger, global_uses = made
    fingerprints = dict(last["fingerprints"])
    todo = []
    for page in pages:
        value = fingerprints[page.path] = finger.page(page)
        if value != last["fingerprints"].get(page.path):
            todo.append(page)
    env = make_environment(config, theme, site_globals, cache.folder / "templates" if options.cache else None)
    renderer = Renderer(env, config.root, options.post_process)
    results = parallel.map_chunks(render_chunk, renderer, todo, options.jobs or parallel.default_jobs(),
                                  min_items=400)
    for result in results:
        if isinstance(result, SiteError):
            report.error(result)
    report.raise_if_failed(options.strict)
    done = {page.path for page in todo}
    for page, result in zip(todo, results):
        sink(page.path, result)  # type: ignore[arg-type]
    for path in last["fingerprints"]:
        if path not in done:
            sink(path, None)
    return SiteBuild(config, index, dict.fromkeys(last["fingerprints"]), static, report, pages, fingerprints,
                     len(todo), publish_horizon(documents, now), {d.source: d for d in documents}, views, renderer,
                     finger, {}, global_uses, last["placements"], last["shown_on"], patched=True)


def _documents(root: Path, last: dict[str, Any], inputs: dict[str, object], edited: list[str],
               cache: DocumentCache, settings: ContentSettings, options: BuildOptions,
               report: Report) -> list[Document] | None:
    """Every document: the edited ones parsed (each must keep its placement and parse cleanly),
    the rest from the cache; None when a whole build is needed. Warnings go to the report."""
    by_source: dict[str, Document] = {}
    warnings: list[SiteError] = []
    fresh: list[tuple[str, Parsed, str]] = []
    for rel in edited:
        found = None if rel in last.get("global_uses", ()) else reparse(root, rel, settings, options.strict, cache)
        if found is None:
            return None
        by_source[rel] = found[0].document  # type: ignore[assignment]
        fresh.append((rel, *found))
    for rel in last["placements"]:
        if rel not in by_source:
            parsed = cache.get_signed(rel, inputs.get(_file(root, rel)))
            if parsed is None or parsed.document is None:
                return None
            by_source[rel] = parsed.document
    by_source = {doc.source: doc for doc in apply_cascades(by_source.values())}
    for rel, parsed, digest in fresh:
        if placement_digest(by_source[rel]) != last["placements"][rel]:
            return None
        cache.put(rel, digest, parsed, inputs[_file(root, rel)])  # type: ignore[arg-type]
        warnings += parsed.warnings
    cache.save()
    for warning in last.get("warnings", []):  # the other documents' still hold; the edited ones' come next
        if warning.path in by_source and warning.path not in edited:
            report.warn(warning)
    for warning in warnings:
        report.warn(warning)
    return [by_source[rel] for rel in sorted(by_source)]


def reparse(root: Path, rel: str, settings: ContentSettings, strict: bool,
            cache: DocumentCache | None = None) -> tuple[Parsed, str] | None:
    """An edited document parsed again (from the cache when its text is known there), with its
    content hash; None when it cannot take a short way: gone or unreadable, broken, warned about
    under --strict, or a section's _index.md (its text is on the section's list pages, not in a view)."""
    source = read_source(root, rel)
    if not isinstance(source, Source):
        return None
    digest = source_digest(source, settings)
    parsed = (cache.get(rel, digest) if cache is not None else None) or parse(source, settings)
    doc = parsed.document
    if doc is None or parsed.errors or (parsed.warnings and strict) or doc.is_section_index:
        return None
    return parsed, digest


def _file(root: Path, rel: str) -> str:
    """The key of a site file in the input state: its path below the site's real root."""
    return f"{root}{os.sep}{rel.replace('/', os.sep)}"
