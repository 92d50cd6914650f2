"""One build, told top to bottom: take the lock of the output folder, read the record of the last
build there, skip the build when no input changed, take the short way when only documents changed
in place (patch.py), else read, plan and render the whole site (`render_site`), then write it
(writer.py) and record what was written (record.py).

    config -> sources -> documents -> index -> plan -> render -> write -> record
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

from bitopia_site import parallel, search
from bitopia_site.cache import Cache, DocumentCache, machine_key
from bitopia_site.config import default_output
from bitopia_site.errors import BuildFailed, Report, SiteError
from bitopia_site.index import build_index
from bitopia_site.links import broken_in_documents
from bitopia_site.model import OutputPage
from bitopia_site.output_folder import check_output_folder, sweep_leftovers
from bitopia_site.patch import patch_site
from bitopia_site.plan import PlanSettings, add_sitemap, check_collisions, plan_documents, plan_lists
from bitopia_site.publication import Visibility, apply_cascades
from bitopia_site.record import (BuildRecord, Counts, build_input_state, hold_builds_into, load_record,
                                 save_record)
from bitopia_site.refs import has_marks, resolve as resolve_refs
from bitopia_site.render import Renderer, make_environment
from bitopia_site.rendering import (fingerprints_of, prints_of, render_chunk_printed, share_fragments,
                                    stage_progress, take_rendered)
from bitopia_site.sources import read_site
from bitopia_site.stages import (BuildOptions, RenderedSite, add_resources, check_images, content_settings,
                                 fingerprinter, load_site, measure_images_ahead, page_suffixes, parse_all,
                                 publish_horizon, site_images, template_globals)
from bitopia_site.views import Views, placement_digest
from bitopia_site.writer import SiteWriter, WriteStats, open_writer

__all__ = ["BuildOptions", "BuildOutcome", "BuildSummary", "add_search_index", "build", "render_site", "run_build"]


@dataclass(frozen=True)
class BuildSummary:
    """What a build did, for the summary line."""

    pages: int
    posts: int
    terms: int
    static: int
    stats: WriteStats
    seconds: float
    warnings: list[SiteError]
    rendered: int = 0


@dataclass
class BuildOutcome:
    """A finished build: its summary, the site in memory (None when nothing changed, so nothing
    was read), and the record the next build into the folder starts from (None when none was made)."""

    summary: BuildSummary
    site: RenderedSite | None
    record: BuildRecord | None


def build(root: Path, out: Path | None = None, options: BuildOptions = BuildOptions()) -> BuildSummary:
    """Build the site at `root` into `out` (default root/output); nothing is written on failure.

    Pages whose inputs did not change since the last build into `out` are not rendered again,
    and a build that changes nothing writes nothing.
    """
    return run_build(root, out, options).summary


@parallel.no_cycle_collection()
def run_build(root: Path, out: Path | None = None, options: BuildOptions = BuildOptions(),
              last: BuildRecord | None = None, skip_unchanged: bool = True) -> BuildOutcome:
    """`build`, starting from `last` (the record of the previous build into `out`; default: the
    cache's), and keeping the site in memory; with `skip_unchanged` False the site is read and
    kept even when nothing changed (a dev server's first build)."""
    started = time.perf_counter()
    out = (out if out is not None else default_output(root)).resolve()
    try:
        check_output_folder(out, root)
    except SiteError as err:
        raise BuildFailed([err]) from None
    options = replace(options, now=options.now or datetime.now(timezone.utc))
    cache = Cache(root.resolve(), Report(), options.cache)
    lock = hold_builds_into(cache, out)
    try:
        return _run_locked(root, out, options, last, skip_unchanged, started, cache)
    finally:
        if lock is not None:
            os.close(lock)


def _run_locked(root: Path, out: Path, options: BuildOptions, last: BuildRecord | None, skip_unchanged: bool,
                started: float, cache: Cache) -> BuildOutcome:
    """`run_build`, while it holds the lock of builds into `out`."""
    assert options.now is not None
    if last is None:
        last = load_record(cache, out)
    if last is not None and not last.describes(out):
        last = None  # the folder changed since (or another tool wrote it): start afresh
    state = build_input_state(root, options)
    if out.parent.is_dir():
        sweep_leftovers(out)
    if skip_unchanged and last is not None and last.up_to_date(state, options.now.timestamp()):
        stats = WriteStats(0, last.counts.pages + last.counts.static, 0, last.build_id)
        summary = BuildSummary(*last.counts, stats, time.perf_counter() - started, list(last.warnings), 0)
        return BuildOutcome(summary, None, last)
    writer = None
    scratch = None if options.cache else tempfile.TemporaryDirectory(prefix="bitopia-build-")
    work = Path(scratch.name) if scratch is not None else cache.folder  # made files: search index, image copies
    try:
        writer = open_writer(out, set(last.files) if last else None, last.spare if last else None,
                             options.in_place)
        site = None
        if skip_unchanged and last is not None and state is not None:
            site = patch_site(root, options, last, state.files, writer.put)
        if site is None:
            site = render_site(root, options, last.fingerprints if last else None, writer, work / "images")
        search_files = add_search_index(site, options, work / "search")
        index_kept = search_files == {rel: Path(path) for rel, path in (last.static.items() if last else ())
                               if rel.startswith(f"{search.FOLDER}/")}
        stats = writer.finish({rel: src for rel, src in site.static.items() if rel not in site.rendered},
                              static_unchanged=site.patched and index_kept)
    except BaseException as exc:
        if writer is not None:
            writer.abort()
            if last is not None and writer.written_paths:  # written in place before the build failed
                save_record(cache, out, last.forget(writer.written_paths))
        if isinstance(exc, SiteError):
            raise BuildFailed([exc]) from None
        raise
    finally:
        if scratch is not None:
            scratch.cleanup()
    counts = Counts.of(len(site.rendered), site.index, len(site.static))
    site.report.warnings.sort(key=lambda warning: warning.path or "")  # the same order however the build went
    record = None
    if site.fingerprints and stats.build_id:
        record = BuildRecord(
            build_id=stats.build_id, files=frozenset(site.rendered) | frozenset(site.static),
            fingerprints=site.fingerprints, counts=counts, horizon=site.horizon, warnings=tuple(site.report.warnings),
            spare=writer.spare_after, state=state.digest if state else None, inputs=state.files if state else None,
            placements=site.placements, shown_on=site.shown_on,
            static={rel: str(path) for rel, path in site.static.items()},
            global_key=site.finger.global_key if site.finger else None, global_uses=site.global_uses,
            images=site.views.images if site.views else None)
        save_record(cache, out, record)
    summary = BuildSummary(*counts, stats, time.perf_counter() - started,
                           site.report.warnings + cache.report.warnings, site.rendered_count)
    return BuildOutcome(summary, site, record)


def add_search_index(site: RenderedSite, options: BuildOptions, home: Path) -> dict[str, Path]:
    """With `search` on, add the files of the site's search index (search.py), kept in `home`, to
    its static files, and return them ({} with search off)."""
    config = site.config
    if not (config.search and options.search):
        return {}
    records = search.records_of(site.index.documents, config.base_path, config.language)
    key = machine_key() if options.cache else None
    files = search.site_index(records, home, key, config.source_file or "site.yaml")
    site.static.update(files)
    return files


@parallel.no_cycle_collection()
def render_site(root: Path, options: BuildOptions, kept: Mapping[str, str] | None = None,
                output: SiteWriter | None = None, images_home: Path | None = None) -> RenderedSite:
    """Read and render the whole site into memory; raise BuildFailed listing every problem.

    `kept`: the fingerprints of the pages the output holds; a page whose fingerprint is the same
    is not rendered again (it maps to None). With an `output`, each rendered file goes to it as soon as it is made instead of into memory
    (in a first build, the renderers write it there themselves), and it hears of the static files
    as soon as they are listed. The copies of the site's images are made in `images_home` (default:
    the cache's, or a folder of the site's own in memory without the cache).
    """
    report = Report()
    now = options.now or datetime.now(timezone.utc)
    jobs = options.jobs or parallel.default_jobs()
    try:
        config, theme = load_site(root, options, report)
    except SiteError as err:
        raise BuildFailed([err]) from None
    settings = content_settings(config)
    cache = Cache(config.root, report, options.cache)
    parsed_cache = DocumentCache(cache if options.cache else None, settings.key())
    files = read_site(config.root, list(theme.static_dirs), parsed_cache.signatures(), leave_unknown=True,
                      ignore=config.ignore_files, page_suffixes=page_suffixes(config))
    for err in files.errors:
        report.error(err)
    if output is not None and not files.errors:
        output.copy_static_early(files.static)
    measuring = measure_images_ahead(config, options, files.static, cache)
    visibility = Visibility.of_build(now, options.drafts, options.future, options.expired, config)
    documents = parse_all(config.root, files, settings, report, jobs, parsed_cache,
                          stage_progress(options, "reading posts", len(files.sources) + len(files.unread)), visibility)
    files.sources.clear()  # their text is in the documents now; render workers need not inherit it
    documents = apply_cascades(documents)
    with_refs = frozenset(doc.source for doc in documents if has_marks(doc))
    documents = resolve_refs(documents, visibility.shows, config.base_url, report.errors)
    index = build_index(documents, visibility, config.taxonomies, config.main_sections, config.section_title,
                        config.related)
    add_resources(files, documents, visibility)
    scratch = None
    if images_home is None:
        scratch = None if options.cache else tempfile.TemporaryDirectory(prefix="bitopia-images-")
        images_home = Path(scratch.name) if scratch is not None else cache.folder / "images"
    images = site_images(config, theme, files.static, cache, images_home, options, measuring)
    check_images(index.documents, files.static, images, report)
    views = Views(index, now, config.base_path, images)
    failed = report.failed(options.strict)
    lists = plan_lists(index, views, PlanSettings.of(config), static=files.static)
    site_globals = template_globals(config, theme.params, index, views, now, files.static)
    made = fingerprinter(views, config, theme, site_globals, files.static, options)
    env = make_environment(config, theme, site_globals, cache.folder / "templates" if options.cache else None)
    renderer = Renderer(env, config.root, options.post_process)
    planned: list[OutputPage] = []

    def plan_the_rest() -> None:
        planned.extend(add_sitemap(plan_documents(index, views, layouts_optional=config.hugo) + lists,
                                    config.kinds_off))
        for err in check_collisions(planned, files.static):
            report.error(err)

    if kept is None and not failed:  # every page is rendered: the lists' cards are made while the rest is planned
        share_fragments(renderer, lists, jobs, meanwhile=plan_the_rest)
    else:
        plan_the_rest()
    pages = planned
    outputs = files.static.keys() | {page.path for page in pages}
    for warning in broken_in_documents(pages, outputs, documents, config, jobs):  # a misspelled image, say
        report.warn(warning)
    if report.failed(options.strict):
        parsed_cache.save()  # the posts that did parse need not be parsed again
        report.raise_if_failed(options.strict)
    # With nothing kept every page is rendered: each is fingerprinted where it is rendered.
    prints = fingerprints_of(pages, made, jobs) if made is not None and kept is not None else None
    fingerprints = prints.values if prints else {}
    todo = [p for p in pages if kept is None or not fingerprints
            or kept.get(p.path) != fingerprints[p.path]]
    if kept is not None:
        share_fragments(renderer, todo, jobs)
    finger = made[0] if made is not None and prints is None else None
    folder = output.direct_folder() if output is not None else None
    # Lists, feeds and archives first (an archive page costs ten posts), then the documents' own pages, all
    # alike: the costly pages are shared out early and the processes finish together. Pages the renderers
    # write themselves come back as None: every chunk may be handed out at once.
    ordered = sorted(todo, key=lambda page: "page" in page.context)
    placements: dict[str, str] = {}

    def meanwhile() -> None:
        """What this process does while the pages are rendered: the main process has nothing else to do then."""
        parsed_cache.save()
        placements.update((d.source, placement_digest(d)) for d in documents)

    results = parallel.iter_chunks(render_chunk_printed, (renderer, finger, folder), ordered, jobs, min_items=400,
                                   progress=stage_progress(options, "rendering pages", len(todo)),
                                   ahead=len(ordered) if folder is not None else 0, meanwhile=meanwhile)
    rendered: dict[str, bytes | None] = {p.path: None for p in pages}
    marks = take_rendered(ordered, results, report, rendered if output is None else output, folder is not None)
    report.raise_if_failed(options.strict)
    if finger is not None and made is not None:
        prints = prints_of(pages, [marks[page.path] for page in pages], made)
        fingerprints = prints.values
    if output is not None:
        todo_paths = {p.path for p in todo}
        for page in pages:
            if page.path not in todo_paths:
                output.put(page.path, None)
    shown_on = prints.shown_on(pages) if prints else {}
    return RenderedSite(
        config=config, index=index, rendered=rendered, static=files.static, report=report, pages=pages,
        fingerprints=fingerprints, rendered_count=len(todo), horizon=publish_horizon(documents, now),
        documents={d.source: d for d in documents}, views=views, renderer=renderer,
        finger=prints.finger if prints else None, users=prints.users if prints else {},
        global_uses=prints.global_uses if prints else frozenset(), placements=placements, shown_on=shown_on,
        theme=theme, visibility=visibility, with_refs=with_refs, scratch=scratch)
