"""A rebuild after edits that leave every post where it was in the site.

When the only files changed since the last build are posts, and each keeps its title, dates,
URL, terms and the rest of its placement, the site's index, lists and links are what they were.
Only the pages that showed those posts (the record of the last build names them) are planned,
fingerprinted and rendered; every other page is kept as it is on disk. Anything else returns
None, and the caller makes a whole build, which reports every problem.
"""

from __future__ import annotations

import os
from collections import ChainMap
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from bitopia_site import parallel, search
from bitopia_site.cache import Cache, DocumentCache
from bitopia_site.content import ContentSettings, Parsed, parse, source_digest
from bitopia_site.errors import Report, SiteError
from bitopia_site.index import build_index
from bitopia_site.links import broken_in_documents
from bitopia_site.model import Document, Source
from bitopia_site.plan import PlanSettings, plan_site
from bitopia_site.publication import Visibility, apply_cascades
from bitopia_site.record import BuildRecord, changed_inputs, site_file
from bitopia_site.refs import resolve as resolve_refs
from bitopia_site.render import Renderer, make_environment
from bitopia_site.rendering import render_chunk
from bitopia_site.scope import Edit, reach
from bitopia_site.sources import read_source
from bitopia_site.stages import (BuildOptions, RenderedSite, check_images, content_settings, fingerprinter,
                                 load_site, publish_horizon, template_globals)
from bitopia_site.views import Views, placement_digest


def patch_site(root: Path, options: BuildOptions, last: BuildRecord, inputs: dict[str, object],
               sink: Callable[[str, bytes | None], None]) -> RenderedSite | None:
    """Render only the pages showing the edited documents, or None when a whole build is needed.
    The site's images are the last build's (an edited image is no edit of a document)."""
    root = root.resolve()
    now = options.now or datetime.now(timezone.utc)
    if (last.inputs is None or last.global_key is None or last.images is None or now.timestamp() >= last.horizon
            or len(last.fingerprints) != last.counts.pages):
        return None
    changed = changed_inputs(root, last, inputs)
    if not changed:
        return None
    report = Report()
    try:
        config, theme = load_site(root, options, report)
    except SiteError:
        return None
    settings = content_settings(config)
    cache = Cache(root, report, options.cache)
    found = _documents(root, last, inputs, changed, DocumentCache(cache, settings.key()), settings, options,
                       report)
    if found is None:
        return None
    documents, only = found
    visibility = Visibility.of_build(now, options.drafts, options.future, options.expired, config)
    ref_errors: list[SiteError] = []
    documents = resolve_refs(documents, visibility.shows, config.base_url, ref_errors)
    if ref_errors:
        return None  # a whole build reports them
    index = build_index(documents, visibility, config.taxonomies, config.main_sections, config.section_title,
                        config.related)
    static = {rel: Path(path) for rel, path in last.static.items()
              if not rel.startswith(f"{search.FOLDER}/")}  # the build adds the search index after (build.py)
    images = last.images
    check_images([doc for doc in index.documents if doc.source in changed], static, images, report)
    views = Views(index, now, config.base_path, images)
    pages = plan_site(index, views, PlanSettings.of(config), only=only, static=static)
    site_globals = template_globals(config, theme.params, index, views, now, static)
    made = fingerprinter(views, config, theme, site_globals, static, options)
    if made is None or made[0].global_key != last.global_key:
        return None
    edited = [doc for doc in documents if doc.source in changed]  # the others' warnings are the last build's
    for warning in broken_in_documents(pages, ChainMap(last.fingerprints, static), edited, config):
        report.warn(warning)
    finger, global_uses = made
    fingerprints = dict(last.fingerprints)
    todo = []
    for page in pages:
        value = fingerprints[page.path] = finger.page(page)
        if value != last.fingerprints.get(page.path):
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
    for path in last.fingerprints:
        if path not in done:
            sink(path, None)
    return RenderedSite(
        config=config, index=index, rendered=dict.fromkeys(last.fingerprints), static=static, report=report,
        pages=pages, fingerprints=fingerprints, rendered_count=len(todo), horizon=publish_horizon(documents, now),
        documents={d.source: d for d in documents}, views=views, renderer=renderer, finger=finger,
        global_uses=global_uses, placements=last.placements, shown_on=last.shown_on, patched=True)


def _documents(root: Path, last: BuildRecord, inputs: dict[str, object], changed: list[str],
               cache: DocumentCache, settings: ContentSettings, options: BuildOptions,
               report: Report) -> tuple[list[Document], frozenset[str]] | None:
    """Every document (the edited ones parsed again, the rest from the cache) and the pages the
    edits reach (`scope.reach`); None when a whole build is needed. Warnings go to the report."""
    by_source: dict[str, Document] = {}
    fresh: dict[str, tuple[Parsed, str]] = {}
    for rel in changed:
        found = reparse(root, rel, settings, options.strict, cache) if rel in last.placements else None
        if found is not None:
            fresh[rel] = found
            by_source[rel] = found[0].document  # type: ignore[assignment]
    for rel in last.placements:
        if rel not in by_source and rel not in changed:
            parsed = cache.get_signed(rel, inputs.get(site_file(root, rel)))
            if parsed is None or parsed.document is None:
                return None
            by_source[rel] = parsed.document
    by_source = {doc.source: doc for doc in apply_cascades(by_source.values())}
    edits = [Edit(rel, last.placements.get(rel), placement_digest(by_source[rel]) if rel in fresh else None)
             for rel in changed]
    static_files = {rel for path in last.static.values() if (rel := _site_rel(root, path))}
    scope = reach(edits, last.shown_on, last.global_uses, static_files)
    if scope.whole or scope.copies or scope.moved:  # nor static files nor moved posts: a whole build
        return None
    warnings: list[SiteError] = []
    for rel, (parsed, digest) in fresh.items():
        cache.put(rel, digest, parsed, inputs[site_file(root, rel)])  # type: ignore[arg-type]
        warnings += parsed.warnings
    cache.save()
    for warning in last.warnings:  # the other documents' still hold; the edited ones' come next
        if warning.path in by_source and warning.path not in fresh:
            report.warn(warning)
    for warning in warnings:
        report.warn(warning)
    return [by_source[rel] for rel in sorted(by_source)], scope.pages


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


def _site_rel(root: Path, path: str) -> str:
    """`path` relative to the site (`static/site.css`), or '' when it is outside it."""
    prefix = f"{root}{os.sep}"
    return path[len(prefix):].replace(os.sep, "/") if path.startswith(prefix) else ""
