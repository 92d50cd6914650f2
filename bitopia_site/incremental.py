"""A build kept in memory between edits, for the dev server.

How far an edit reaches is `scope.reach`'s to say: an edit that leaves a post where it was in the
site (same title, date, URL, terms, draft state...) changes only that post's view, and the pages
showing the view are rendered again with nothing else read, indexed or planned; a static file
changed in place is copied again. A post that moved in the site (new, deleted, retitled, re-dated,
retagged, drafted) is read alone, the site is planned again from the documents in memory
(relayout.py), and the pages whose fingerprints changed are rendered, those browsers show first.
Anything else (a template, the config) takes a whole build, which still renders only the pages
whose fingerprints changed.
"""

from __future__ import annotations

import os
import time
from collections import ChainMap
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Collection, Mapping

from bitopia_site import parallel
from bitopia_site.build import BuildOptions, BuildSummary, run_build
from bitopia_site.cache import Cache
from bitopia_site.errors import BuildFailed, Report, SiteError
from bitopia_site.images import problems_in
from bitopia_site.links import broken_in_documents
from bitopia_site.live_search import LiveSearch
from bitopia_site.model import Document, OutputPage
from bitopia_site.output_folder import output_id
from bitopia_site.patch import reparse
from bitopia_site.publication import Visibility, apply_cascades
from bitopia_site.record import BuildRecord, Counts, drop_record, load_record, save_record
from bitopia_site.refs import resolve_one
from bitopia_site.relayout import plan, reindex, why_not
from bitopia_site.rendering import fingerprints_of, render_chunk
from bitopia_site.scope import Edit, reach
from bitopia_site.sources import MARKDOWN_SUFFIXES
from bitopia_site.stages import RenderedSite, content_settings, load_site
from bitopia_site.urls import output_path
from bitopia_site.views import placement_digest
from bitopia_site.writer import InPlaceWriter, WriteStats

PostProcess = Callable[[OutputPage, str], str]
SERVE_OPTIONS = BuildOptions(drafts=True, future=True)  # a preview shows drafts and posts dated later


def live_builder(root: Path, options: BuildOptions = SERVE_OPTIONS) -> Callable[[Path, str, PostProcess], LiveBuild]:
    """What the dev server (`serve.DevServer`) takes: given its folder, its URL and what it adds
    to each page (the live-reload script), the LiveBuild of `root` that serves there."""
    def make(out: Path, base_url: str, post_process: PostProcess) -> LiveBuild:
        # search off in its builds: a preview's index is LiveSearch's, made after the reload
        return LiveBuild(root, out, replace(options, base_url=base_url, post_process=post_process, in_place=True,
                                            search=False))
    return make


class LiveBuild:
    """Builds `root` into `out` and keeps the site in memory so that `update` can apply edits."""

    def __init__(self, root: Path, out: Path, options: BuildOptions) -> None:
        self.root = root.resolve()
        self.out = out.resolve()
        self.options = options
        self.cache = Cache(self.root, Report(), options.cache)
        self.site: RenderedSite | None = None
        self.record: BuildRecord | None = None  # what the output holds, as the cache keeps it
        self._unsaved = False  # the record changed since it was saved
        self.updates = 0  # edits applied in memory, without a whole build
        self._static_sources: dict[str, str] = {}  # real path of a static file -> its output path
        self.search = LiveSearch(self.out, self.cache.folder / "search-preview")

    def build(self) -> BuildSummary:
        """A whole build (unchanged pages are kept), remembered for `update`."""
        self.site = None
        self.search.forget()
        try:
            built = run_build(self.root, self.out, self.options, self.record, skip_unchanged=False)
        except BaseException:
            # A failed build that wrote pages in place saved a record that forgets them; one that
            # wrote nothing (a typo in a post, say) leaves the output, and so the record, as it was.
            saved = load_record(self.cache, self.out)
            if saved is not None:
                self.record, self._unsaved = saved, False
            raise
        self.site, self.record, self._unsaved = built.site, built.record, False
        if built.site is not None:
            self._static_sources = {os.path.realpath(src): rel for rel, src in built.site.static.items()}
        return built.summary

    def update(self, files: Mapping[str, Path], first: Collection[str] = (),
               early: Callable[[set[str], set[str]], None] | None = None) -> BuildSummary | None:
        """Apply edits to `files` (site-relative name -> file) by rendering only the pages they
        reach (`scope.reach`); None when they need a whole build (a template or the config
        changed, a broken file). When posts moved, the pages of `first` (output paths: the pages
        browsers show) are rendered before the others, then `early` is told which of them changed
        and which files are final (those pages, and the static files not copied again)."""
        started = time.perf_counter()
        site, record = self.site, self.record
        now = self.options.now or datetime.now(timezone.utc)
        if site is None or record is None or site.finger is None or site.views is None or site.renderer is None:
            return None
        if now.timestamp() >= site.horizon or output_id(self.out) != record.build_id:
            return None
        edits: list[Edit] = []
        documents: dict[str, tuple[Document, list[SiteError]]] = {}
        static: dict[str, str] = {}  # site path -> output path
        for rel, path in files.items():
            old = site.documents.get(rel)
            if rel.startswith("content/") and rel.lower().endswith(MARKDOWN_SUFFIXES):
                gone = not path.exists()
                found = None if gone else self._edited_document(site, rel)
                if found is not None:
                    documents[rel] = found
                edits.append(Edit(rel, placement_digest(old) if old is not None else None,
                                  placement_digest(found[0]) if found is not None else None, gone and old is not None))
                continue
            target = self._static_sources.get(os.path.realpath(path))
            if target is not None and path.is_file() and target not in site.views.images.infos:
                static[rel] = target  # not an image with copies: those need a whole build
            edits.append(Edit(rel))
        scope = reach(edits, site.users, site.global_uses, static)
        if scope.whole:
            return None
        if scope.moved:
            moved: dict[str, Document | None] = {rel: None for rel in scope.moved}  # the gone ones stay None
            moved.update((rel, doc) for rel, (doc, _) in documents.items())
            if why_not(site, moved):
                return None
            return self._move(site, record, moved, [w for _, ws in documents.values() for w in ws],
                              {rel: (static[rel], files[rel]) for rel in scope.copies}, now, started, first, early)
        fragments = site.renderer.env.bitopia_fragments  # type: ignore[attr-defined]
        warnings: list[SiteError] = []
        for doc, doc_warnings in documents.values():
            site.documents[doc.source] = doc
            view = site.views.refresh(doc)
            if view is not None:
                fragments.forget(view)
            warnings += doc_warnings
        warnings += problems_in([doc for doc, _ in documents.values()], site.views.images)
        warnings += broken_in_documents([site.pages[number] for number in scope.pages],
                                        ChainMap(site.rendered, site.static),  # asked, not copied: a save is quick
                                        [doc for doc, _ in documents.values()], site.config)
        self._invalidate_saved_record()
        writer = InPlaceWriter(self.out)
        try:
            for number in sorted(scope.pages):
                page = site.pages[number]
                value = site.finger.page(page)
                if value == site.fingerprints.get(page.path):
                    continue
                writer.put(page.path, site.renderer.render(page))
                site.fingerprints[page.path] = value
            for rel in sorted(scope.copies):
                writer.put_file(static[rel], files[rel])
        except SiteError as err:
            self.site = None  # views were changed for a build that did not finish: start afresh
            raise BuildFailed([err]) from None
        except BaseException:
            self.site = None
            raise
        self.updates += 1
        counts = record.counts
        stats = WriteStats(writer.written, counts.pages + counts.static - writer.written, 0, record.build_id)
        return BuildSummary(*counts, stats, time.perf_counter() - started, warnings, len(scope.pages))

    def _move(self, site: RenderedSite, record: BuildRecord, moved: dict[str, Document | None],
              warnings: list[SiteError], copies: dict[str, tuple[str, Path]], now: datetime, started: float,
              first: Collection[str], early: Callable[[set[str], set[str]], None] | None) -> BuildSummary | None:
        """Apply documents that moved in the site (see relayout.py): the pages of `first` are
        rendered and written first (`early` hears which changed), then every page whose
        fingerprint changed; pages no longer in the site are removed."""
        assert site.views is not None and site.renderer is not None
        env = site.renderer.env
        fragments = env.bitopia_fragments  # type: ignore[attr-defined]
        for rel in moved:  # their cards (and the lines of related posts) go before their views and links change or go
            if (old := site.documents.get(rel)) is not None:
                fragments.forget(site.views.doc(old))
                fragments.forget(site.views.link(old))
        self.site = None  # until the update is done: a failure leaves the site to a whole build
        site.pages, site.users, site.shown_on = [], {}, {}  # made again below: the new ones take their memory
        moves = reindex(site, moved, self.options, now)
        if moves is None:
            return None
        self._invalidate_saved_record()
        if site.finger is None or moves.finger.global_key != site.finger.global_key:
            shown = env.globals["site"]  # the templates loaded hold this very dict: changed in place
            moves.site_globals["site"]["has_file"] = shown["has_file"]
            shown.clear()
            shown.update(moves.site_globals["site"])
            fragments.clear()
        writer = InPlaceWriter(self.out, set(record.files))
        done: dict[str, str] = {}
        try:
            urgent = plan(site, moves.index, set(first)) or [] if first else []
            for page in urgent:
                done[page.path] = moves.finger.page(page)
                writer.put(page.path, site.renderer.render(page))
            if early is not None and urgent:
                early(set(writer.written_paths), done.keys() | (site.static.keys() - {t for t, _ in copies.values()}))
            pages = plan(site, moves.index)
            if pages is None:
                self.record = record.forget(writer.written_paths)  # a whole build must render them again
                return None
            by_path = {page.path: page for page in pages}
            warnings = warnings + broken_in_documents(pages, ChainMap(by_path, site.static),
                                                      [doc for doc in moved.values() if doc], site.config)
            prints = fingerprints_of(pages, (moves.finger, moves.global_uses),
                                     self.options.jobs or parallel.default_jobs())
            todo = [page for page in pages if page.path not in done
                    and prints.values[page.path] != site.fingerprints.get(page.path)]
            # written as they come, not gathered first: a new post can change most of the pages
            results = parallel.iter_chunks(render_chunk, site.renderer, todo,
                                           self.options.jobs or parallel.default_jobs(), min_items=400)
            for page, result in zip(todo, results):
                if isinstance(result, SiteError):
                    raise result
                writer.put(page.path, result)
            rendered = {page.path for page in todo} | done.keys()
            for page in pages:
                if page.path not in rendered:
                    writer.put(page.path, None)
            for rel, (target, source) in copies.items():
                writer.put_file(target, source)
            stats = writer.finish({rel: src for rel, src in site.static.items() if rel not in by_path})
        except BaseException as exc:
            self.record = record.forget(writer.written_paths)  # the pages written in place: render them again
            if isinstance(exc, SiteError):
                raise BuildFailed([exc]) from None
            raise
        counts = Counts.of(len(by_path), moves.index, len(site.static))
        placements = {**site.placements, **{rel: placement_digest(doc) for rel, doc in moved.items() if doc}}
        for rel, doc in moved.items():
            if doc is None:
                placements.pop(rel, None)
        shown_on = prints.shown_on(pages)
        site = replace(site, index=moves.index, rendered=dict.fromkeys(by_path), pages=pages,
                       fingerprints=prints.values, rendered_count=len(rendered), horizon=moves.horizon,
                       documents=moves.documents, finger=prints.finger, users=prints.users,
                       global_uses=prints.global_uses, placements=placements, shown_on=shown_on)
        self.site = site
        self.record = replace(record, build_id=stats.build_id, files=frozenset(by_path) | frozenset(site.static),
                              fingerprints=site.fingerprints, counts=counts, horizon=moves.horizon, state=None,
                              placements=placements, shown_on=shown_on)
        self.updates += 1
        return BuildSummary(*counts, stats, time.perf_counter() - started, warnings + moves.warnings, len(rendered))

    def background(self) -> Callable[[], Callable[[], None] | None] | None:
        """The search index's work for the site as it is now (see `LiveSearch.job`)."""
        return self.search.job(self.site)

    def url_of(self, rel: str) -> str | None:
        """The URL of the content file `rel` in the site the last build made, when it has a page there."""
        doc = self.site.documents.get(rel) if self.site is not None else None
        if doc is None or not doc.url or output_path(doc.url) not in self.site.rendered:  # type: ignore[union-attr]
            return None
        return doc.url

    def theme_folders(self) -> list[tuple[Path, str]]:
        """The folders of the site's theme (and its parents) that lie outside the site, by theme name:
        a dev server watches them too (the packaged theme, say). [] when the config does not load."""
        try:
            _, theme = load_site(self.root, self.options, Report())
        except SiteError:
            return []
        folders = (d.parent.resolve() for d in theme.template_dirs[-len(theme.names):])
        return [(folder, name) for folder, name in zip(folders, theme.names) if not folder.is_relative_to(self.root)]

    def close(self) -> None:
        """Save the record of what the output holds, so the next server starts from it."""
        if self._unsaved and self.record is not None:
            save_record(self.cache, self.out, self.record.forget(set()))
            self._unsaved = False

    def _edited_document(self, site: RenderedSite, rel: str) -> tuple[Document, list[SiteError]] | None:
        """The new document of an edited source and its warnings; None when it cannot be had on the
        short way (see `patch.reparse`), or a `ref` in it names no page (a whole build reports it)."""
        found = reparse(self.root, rel, content_settings(site.config), self.options.strict)
        if found is None or found[0].document is None:
            return None
        givers = [doc for doc in site.documents.values() if doc.is_section_index and doc.cascade]
        new = apply_cascades([*givers, found[0].document])[-1]
        options = self.options
        now = options.now or datetime.now(timezone.utc)
        visibility = (replace(site.visibility, now=now) if site.visibility is not None
                      else Visibility.of_build(now, options.drafts, options.future, options.expired, site.config))
        resolved = resolve_one(new, site.documents.values(), visibility.shows, site.config.base_url)
        return (resolved, list(found[0].warnings)) if resolved is not None else None

    def _invalidate_saved_record(self) -> None:
        """The output is about to differ from the saved record: drop it until `close` saves anew."""
        if not self._unsaved:
            drop_record(self.cache, self.out)
            self._unsaved = True
