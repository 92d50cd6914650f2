"""Orchestration: config -> sources -> documents -> index -> plan -> render -> write."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Generator, Sequence

from bitopia_site import __version__, parallel, urls
from bitopia_site.cache import Cache, DocumentCache, code_version, record_key
from bitopia_site.config import SiteConfig, load_config
from bitopia_site.copier import read_ahead
from bitopia_site.content import HTML_SUFFIXES, ContentSettings, Parsed, parse, source_digest
from bitopia_site.errors import BuildFailed, Report, SiteError
from bitopia_site.fingerprint import Fingerprinter, files_digest
from bitopia_site.index import build_index
from bitopia_site.model import Document, OutputPage, SiteIndex, Source
from bitopia_site.output_folder import check_output_folder, missing_files, output_id, sweep_leftovers
from bitopia_site.plan import add_sitemap, check_collisions, plan_documents, plan_lists
from bitopia_site.publication import Visibility, apply_cascades
from bitopia_site.render import Fragments, Renderer, make_environment
from bitopia_site.refs import resolve as resolve_refs
from bitopia_site.shortcode_templates import merge_unknown, site_shortcodes
from bitopia_site.sources import MARKDOWN_SUFFIXES, InputState, SiteFiles, input_state, read_markdown, read_site
from bitopia_site.spare import Spare, Trees
from bitopia_site.theme import PACKAGED_THEMES, Theme, load_theme
from bitopia_site.views import Views, placement_digest
from bitopia_site.writer import SiteWriter, WriteStats, open_writer, write_page


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


@dataclass(frozen=True)
class Reuse:
    """What the last build into the same folder rendered: page fingerprints, still on disk."""

    fingerprints: dict[str, str]


@dataclass
class SiteBuild:
    """A rendered site in memory: every output file, and what it came from.

    With `Reuse`, a page whose fingerprint did not change maps to None: "keep the file on disk".
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
    # What a later edit needs to re-render only the pages it touches (see LiveBuild):
    documents: dict[str, Document] = field(default_factory=dict)  # every parsed document by source
    views: Views | None = None
    renderer: Renderer | None = None
    finger: Fingerprinter | None = None
    users: dict[str, list[int]] = field(default_factory=dict)  # source -> indexes of the pages showing it
    global_uses: frozenset[str] = frozenset()  # sources every page shows (through the site's globals)
    # What the next build needs to plan only the pages an edit touches (see patch.py):
    placements: dict[str, str] = field(default_factory=dict)  # source -> digest of its place in the site
    shown_on: dict[str, tuple[str, ...]] = field(default_factory=dict)  # source -> paths of the pages showing it
    patched: bool = False  # only the pages an edit touched were planned; no other input changed


@dataclass(frozen=True)
class BuildResult:
    """What a build did, for the summary line."""

    pages: int
    posts: int
    terms: int
    static: int
    stats: WriteStats
    seconds: float
    warnings: list[SiteError]
    rendered: int = 0


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
                           shortcodes=site_shortcodes(config), raw_html=config.raw_html)


@parallel.no_cycle_collection()
def render_site(root: Path, options: BuildOptions, reuse: Reuse | None = None,
                output: SiteWriter | None = None) -> SiteBuild:
    """Read and render the whole site into memory; raise BuildFailed listing every problem.

    With an `output`, each rendered file goes to it as soon as it is made instead of into memory
    (in a first build, the renderers write it there themselves), and it hears of the static files
    as soon as they are listed.
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
    visibility = Visibility(now, options.drafts, options.future, options.expired)
    documents = parse_all(config.root, files, settings, report, jobs, parsed_cache,
                          _stage(options, "reading posts", len(files.sources) + len(files.unread)), visibility)
    files.sources.clear()  # their text is in the documents now; render workers need not inherit it
    documents = apply_cascades(documents)
    documents = resolve_refs(documents, visibility.shows, config.base_url, report.errors)
    index = build_index(documents, visibility, config.taxonomies, config.main_sections)
    add_resources(files, documents, visibility)
    check_featured(index.documents, files.static, report)
    views = Views(index, now, config.base_path)
    failed = report.failed(options.strict)
    lists = plan_lists(index, views, config.paginate, config.feed_limit, static=files.static,
                       term_title=urls.hugo_title if config.hugo else str)
    site_globals = template_globals(config, theme.params, index, views, now, files.static)
    made = fingerprinter(views, config, theme, site_globals, files.static, options)
    env = make_environment(config, theme, site_globals, cache.folder / "templates" if options.cache else None)
    renderer = Renderer(env, config.root, options.post_process)
    planned: list[OutputPage] = []

    def plan_the_rest() -> None:
        planned.extend(add_sitemap(plan_documents(index, views, layouts_optional=config.hugo) + lists))
        for err in check_collisions(planned, files.static):
            report.error(err)

    if reuse is None and not failed:  # every page is rendered: the lists' cards are made while the rest is planned
        _share_fragments(renderer, lists, jobs, meanwhile=plan_the_rest)
    else:
        plan_the_rest()
    pages = planned
    if report.failed(options.strict):
        parsed_cache.save()  # the posts that did parse need not be parsed again
        report.raise_if_failed(options.strict)
    # With nothing to reuse every page is rendered: each is fingerprinted where it is rendered.
    prints = _fingerprints(pages, made, jobs) if made is not None and reuse is not None else None
    fingerprints = prints.values if prints else {}
    todo = [p for p in pages if reuse is None or not fingerprints
            or reuse.fingerprints.get(p.path) != fingerprints[p.path]]
    if reuse is not None:
        _share_fragments(renderer, todo, jobs)
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

    results = parallel.iter_chunks(_render_chunk_printed, (renderer, finger, folder), ordered, jobs, min_items=400,
                                   progress=_stage(options, "rendering pages", len(todo)),
                                   ahead=len(ordered) if folder is not None else 0, meanwhile=meanwhile)
    rendered: dict[str, bytes | None] = {p.path: None for p in pages}
    marks = _take_rendered(ordered, results, report, rendered if output is None else output, folder is not None)
    report.raise_if_failed(options.strict)
    if finger is not None and made is not None:
        prints = _prints(pages, [marks[page.path] for page in pages], made)
        fingerprints = prints.values
    if output is not None:
        todo_paths = {p.path for p in todo}
        for page in pages:
            if page.path not in todo_paths:
                output.put(page.path, None)
    shown_on = {source: tuple(pages[n].path for n in numbers) for source, numbers in prints.users.items()} \
        if prints else {}
    return SiteBuild(config, index, rendered, files.static, report, pages, fingerprints, len(todo),
                     publish_horizon(documents, now), {d.source: d for d in documents}, views, renderer,
                     prints.finger if prints else None, prints.users if prints else {},
                     prints.global_uses if prints else frozenset(), placements, shown_on)


def build(root: Path, out: Path | None = None, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Build the site at `root` into `out` (default root/output); nothing is written on failure.

    Pages whose inputs did not change since the last build into `out` are not rendered again,
    and a build that changes nothing writes nothing.
    """
    return build_into(root, out, options).result


@dataclass
class Built:
    """A finished build: its summary, the site in memory (None when nothing changed, so nothing
    was read), and the record of what it wrote that the next build into the folder starts from."""

    result: BuildResult
    site: SiteBuild | None
    record: dict[str, Any]


@parallel.no_cycle_collection()
def build_into(root: Path, out: Path | None = None, options: BuildOptions = BuildOptions(),
               last: dict[str, Any] | None = None, skip_unchanged: bool = True) -> Built:
    """`build`, starting from `last` (the record of the previous build into `out`; default: the
    cache's); with `skip_unchanged` False the site is read and kept even when nothing changed."""
    started = time.perf_counter()
    out = (out if out is not None else root / "output").resolve()
    try:
        check_output_folder(out, root)
    except SiteError as err:
        raise BuildFailed([err]) from None
    now = options.now or datetime.now(timezone.utc)
    options = replace(options, now=now)
    cache = Cache(root.resolve(), Report(), options.cache)
    lock = cache.hold(record_key(out)[0])
    try:
        return _build_held(root, out, options, last, skip_unchanged, started, cache)
    finally:
        if lock is not None:
            os.close(lock)


def _build_held(root: Path, out: Path, options: BuildOptions, last: dict[str, Any] | None, skip_unchanged: bool,
                started: float, cache: Cache) -> Built:
    """`build_into`, while it holds the lock of builds into `out`."""
    now = options.now
    assert now is not None
    if last is None:
        last = cache.load(*record_key(out))
    current_id = output_id(out)
    reuse = None
    if last and current_id and last.get("build_id") == current_id and not missing_files(out, last.get("files", set())):
        reuse = Reuse(last.get("fingerprints", {}))
    state = _input_state(root, options)
    if out.parent.is_dir():
        sweep_leftovers(out)
    if (skip_unchanged and reuse and state is not None and last.get("state") == state.digest
            and now.timestamp() < last.get("horizon", 0)):
        counts = last["counts"]
        stats = WriteStats(0, counts[0] + counts[3], 0, current_id)
        return Built(BuildResult(counts[0], counts[1], counts[2], counts[3], stats, time.perf_counter() - started,
                                 list(last.get("warnings", [])), 0), None, last)
    writer = None
    try:
        spare = last.get("spare") if reuse else None
        writer = open_writer(out, last.get("files") if reuse else None, spare if isinstance(spare, Spare) else None,
                             options.in_place, make_spare=options.cache)
        site = None
        if skip_unchanged and reuse and state is not None:
            from bitopia_site.patch import patch_site  # it builds on this module
            site = patch_site(root, options, last, state.files, writer.put)
        if site is None:
            site = render_site(root, options, reuse, writer)
        stats = writer.finish({rel: src for rel, src in site.static.items() if rel not in site.rendered},
                              static_unchanged=site.patched)
    except BaseException as exc:
        if writer is not None:
            writer.abort()
            if reuse and writer.written_paths:  # written in place before the build failed: not what `last` says
                cache.save(*record_key(out), forget_pages(last, writer.written_paths))
        if isinstance(exc, SiteError):
            raise BuildFailed([exc]) from None
        raise
    terms = sum(len(t.terms) for t in site.index.taxonomies)
    counts = (len(site.rendered), len(site.index.posts), terms, len(site.static))
    site.report.warnings.sort(key=lambda warning: warning.path or "")  # the same order however the build went
    record: dict[str, Any] = {}
    if site.fingerprints and stats.build_id:
        record = {"build_id": stats.build_id, "fingerprints": site.fingerprints,
                  "files": set(site.rendered) | set(site.static), "horizon": site.horizon,
                  "counts": counts, "warnings": site.report.warnings, "spare": writer.spare_after,
                  "state": state.digest if state else None, "inputs": state.files if state else None,
                  "placements": site.placements, "shown_on": site.shown_on,
                  "static": {rel: str(path) for rel, path in site.static.items()},
                  "global_key": site.finger.global_key if site.finger else None, "global_uses": site.global_uses}
        cache.save(*record_key(out), record)
    result = BuildResult(*counts, stats, time.perf_counter() - started,
                         site.report.warnings + cache.report.warnings, site.rendered_count)
    return Built(result, site, record)


def forget_pages(record: dict[str, Any], paths: set[str]) -> dict[str, Any]:
    """The record with `paths` marked as not known (their files changed outside a finished build),
    and no input state, so the next build renders them again and skips nothing."""
    fingerprints = {path: value for path, value in record.get("fingerprints", {}).items() if path not in paths}
    return {**record, "fingerprints": fingerprints, "state": None}


def _input_state(root: Path, options: BuildOptions) -> InputState | None:
    """Every input file's name, size and time stamps, with the options and the code; None when
    the build cannot be skipped (an unknown post-processor)."""
    if options.post_process is not None and "<locals>" in getattr(options.post_process, "__qualname__", "<locals>"):
        return None
    key = (code_version(), options.drafts, options.future, options.expired, options.base_url, options.strict,
           getattr(options.post_process, "__qualname__", None))
    state = input_state(root.resolve(), [PACKAGED_THEMES])
    return InputState(f"{key}:{state.digest}", {**state.files, "\0options": repr(key)})


def publish_horizon(documents: list[Document], now: datetime) -> float:
    """The first moment after `now` at which time alone changes the site: a post comes due or
    expires, or a new year begins (pages show the build's year)."""
    moments = [datetime(now.year + 1, 1, 1, tzinfo=now.tzinfo or timezone.utc).timestamp()]
    moments += [due.timestamp() for d in documents if (due := d.publish_date or d.date) and due > now]
    moments += [d.expiry_date.timestamp() for d in documents if d.expiry_date and d.expiry_date > now]
    return min(moments, default=float("inf"))


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


def _take_rendered(todo: list[OutputPage], results: Generator[tuple[Any, Any], None, None], report: Report,
                   output: SiteWriter | dict[str, bytes | None], written: bool
                   ) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Hand each rendered page to `output` (a dict: kept in memory) or to the report; with
    `written`, the renderers wrote the pages themselves. The fingerprint marks, by page path."""
    marks: dict[str, tuple[str, tuple[str, ...]]] = {}
    try:
        for (result, mark), page in zip(results, todo):  # results first: the generator runs even with no pages
            if mark is not None:
                marks[page.path] = mark
            if isinstance(result, SiteError):
                report.error(result)
            elif isinstance(output, dict):
                output[page.path] = result
            elif written:
                if result is not None:  # the error that stopped a renderer writing: stop them all first
                    results.close()
                output.put_written(page.path, result)
            elif not report.errors:
                output.put(page.path, result)
    finally:
        results.close()  # the renderers stop before a failed build removes the staging folder
    return marks


def _stage(options: BuildOptions, stage: str, total: int) -> Callable[[int], None] | None:
    report = options.progress
    return None if report is None else (lambda done: report(stage, done, total))


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


def render_chunk(renderer: Renderer, chunk: Sequence[OutputPage]) -> list[bytes | SiteError]:
    out: list[bytes | SiteError] = []
    for page in chunk:
        try:
            out.append(renderer.render(page))
        except SiteError as err:
            out.append(err)
    return out


def _render_chunk_printed(job: tuple[Renderer, Fingerprinter | None, Trees | None], chunk: Sequence[OutputPage]
                          ) -> list[tuple[Any, tuple[str, tuple[str, ...]] | None]]:
    """`render_chunk`, each page with its fingerprint and uses (see `_fingerprints`) when a
    fingerprinter is given. With a `folder`, each page's bytes are written there instead of
    returned: None in their place, or the OSError that stopped the writing."""
    renderer, finger, folder = job
    marks = [finger.page_and_uses(page) for page in chunk] if finger is not None else [None] * len(chunk)
    results: list[Any] = render_chunk(renderer, chunk)
    if folder is not None:
        made_dirs: set[str] = set()
        for number, (page, result) in enumerate(zip(chunk, results)):
            if isinstance(result, bytes):
                try:
                    write_page(folder, page.path, result, made_dirs)
                    results[number] = None
                except OSError as err:
                    results[number] = err
    return list(zip(results, marks))


def _share_fragments(renderer: Renderer, pages: list[OutputPage], jobs: int,
                     meanwhile: Callable[[], None] | None = None) -> None:
    """Render the fragments that list pages memoize (each post's card) once, across the workers,
    before the pages: a worker rendering lists would otherwise render nearly every card itself.
    `meanwhile()` runs here while the workers make them (at once when there are none to make)."""
    fragments = renderer.env.bitopia_fragments  # type: ignore[attr-defined]
    wanted = _wanted_fragments(renderer, pages) if jobs > 1 else []
    made = parallel.iter_chunks(_fragment_chunk, fragments, wanted, jobs, min_items=400, ahead=len(wanted),
                                meanwhile=meanwhile)
    # Kept as they come: the texts are not all held at once. `made` first: it runs `meanwhile` even with none wanted.
    for fragment, (name, item) in zip(made, wanted):
        if fragment is not None:
            fragments.keep(name, item, fragment)


def _wanted_fragments(renderer: Renderer, pages: list[OutputPage]) -> list[tuple[str, dict[str, Any]]]:
    """The (template, item) of every fragment the list pages memoize, when there are enough lists to
    share them out. The templates are found by rendering the first list page of each kind here."""
    lists = [page for page in pages if isinstance(page.context.get("pager"), dict)]
    if len(lists) < 400:
        return []
    firsts: dict[tuple[tuple[str, ...], Any], OutputPage] = {}
    for page in lists:
        firsts.setdefault((page.templates, page.context.get("kind")), page)
    env = renderer.env
    for page in firsts.values():  # the template alone, not the post-processor: only memo()'s calls matter
        try:
            env.select_template(list(page.templates)).render({**page.context, "url": page.url})
        except Exception:  # noqa: BLE001 - reported when the pages are rendered
            return []
    items = {id(item): item for page in lists for item in page.context["pager"].get("items", ())
             if type(item) is dict}
    return [(name, item) for name in sorted(env.bitopia_fragments.memo_names)  # type: ignore[attr-defined]
            for item in items.values()]


def _fragment_chunk(fragments: Fragments, chunk: Sequence[tuple[str, dict[str, Any]]]) -> list[bytes | None]:
    out: list[bytes | None] = []
    for name, item in chunk:
        try:
            out.append(fragments.make(name, item).encode("utf-8", "surrogatepass"))
        except Exception:  # noqa: BLE001 - the page that shows it reports the template's error
            out.append(None)
    return out


@dataclass
class Prints:
    """Every page's fingerprint, and which documents' views each page shows."""

    values: dict[str, str]
    users: dict[str, list[int]]  # document source -> indexes of the pages showing its view
    global_uses: frozenset[str]  # documents whose views are in the site's globals (on every page)
    finger: Fingerprinter


def _fingerprints(pages: list[OutputPage], made: tuple[Fingerprinter, frozenset[str]], jobs: int) -> Prints:
    """Each page's fingerprint, and which documents' views each page shows."""
    return _prints(pages, parallel.map_chunks(_fingerprint_chunk, made[0], pages, jobs, min_items=2000), made)


def _prints(pages: list[OutputPage], marks: Sequence[tuple[str, tuple[str, ...]]],
            made: tuple[Fingerprinter, frozenset[str]]) -> Prints:
    """The Prints of `pages` from each one's (fingerprint, sources of the views it shows)."""
    users: dict[str, list[int]] = {}
    for number, (_, used) in enumerate(marks):
        for source in used:
            users.setdefault(source, []).append(number)
    values = {page.path: value for page, (value, _) in zip(pages, marks)}
    return Prints(values, users, made[1], made[0])


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
                                      process_key, site_globals, sorted(static)], global_uses)
    return finger, frozenset(global_uses)


def _fingerprint_chunk(finger: Fingerprinter, chunk: Sequence[OutputPage]) -> list[tuple[str, tuple[str, ...]]]:
    return [finger.page_and_uses(page) for page in chunk]


def check_featured(documents: Sequence[Document], static: dict[str, Path], report: Report) -> None:
    """Warn of each featured image that is not in the site."""
    for doc in documents:
        image = doc.featured
        if image is not None and image.file is not None and image.file not in static:
            report.warn(SiteError(doc.source, f"featured image not found: looked for content/{image.file} "
                                  f"and static/{image.file}", "add the image there, or fix `featured:` / "
                                  "`featuredpath:`"))


def template_globals(config: SiteConfig, theme_params: dict[str, Any], index: SiteIndex, views: Views,
                     now: datetime, static: dict[str, Path]) -> dict[str, Any]:
    """What every template sees as `site`."""
    params = {**theme_params, **config.params}
    menus = {name: sorted(items, key=lambda i: (i.get("weight", 0), str(i.get("name", ""))))
             for name, items in config.menus.items()}
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
        },
    }
