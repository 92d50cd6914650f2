"""A build kept in memory between edits, for the dev server.

An edit that leaves a post where it was in the site (same title, date, URL, terms, draft
state...) changes only that post's view; the pages showing the view are rendered again and
nothing else is read, indexed or planned. Anything else takes a whole build, which still
renders only the pages whose fingerprints changed.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from bitopia_site.build import BuildOptions, BuildResult, SiteBuild, build_into, content_settings, forget_pages
from bitopia_site.cache import Cache, record_key
from bitopia_site.errors import BuildFailed, Report, SiteError
from bitopia_site.model import Document
from bitopia_site.output_folder import output_id
from bitopia_site.patch import reparse
from bitopia_site.publication import Visibility, apply_cascades
from bitopia_site.refs import resolve_one
from bitopia_site.sources import MARKDOWN_SUFFIXES
from bitopia_site.views import placement
from bitopia_site.writer import InPlaceWriter, WriteStats


class LiveBuild:
    """Builds `root` into `out` and keeps the site in memory so that `update` can apply edits."""

    def __init__(self, root: Path, out: Path, options: BuildOptions) -> None:
        self.root = root.resolve()
        self.out = out.resolve()
        self.options = options
        self.cache = Cache(self.root, Report(), options.cache)
        self.site: SiteBuild | None = None
        self.record: dict[str, Any] | None = None  # what the output holds, as the cache keeps it
        self._unsaved = False  # the record changed since it was saved
        self.updates = 0  # edits applied in memory, without a whole build
        self._static_sources: dict[str, str] = {}  # real path of a static file -> its output path

    def build(self) -> BuildResult:
        """A whole build (unchanged pages are kept), remembered for `update`."""
        self.site = None
        try:
            built = build_into(self.root, self.out, self.options, self.record, skip_unchanged=False)
        except BaseException:
            # A failed build that wrote pages in place saved a record that forgets them; one that
            # wrote nothing (a typo in a post, say) leaves the output, and so the record, as it was.
            saved = self.cache.load(*record_key(self.out))
            if saved:
                self.record, self._unsaved = saved, False
            raise
        self.site, self.record, self._unsaved = built.site, built.record, False
        if built.site is not None:
            self._static_sources = {os.path.realpath(src): rel for rel, src in built.site.static.items()}
        return built.result

    def update(self, files: Mapping[str, Path]) -> BuildResult | None:
        """Apply edits to `files` (site-relative name -> file) by rendering only the pages they
        touch; None when they need a whole build (a post added, removed, retitled or re-dated,
        a template or the config changed, a broken file)."""
        started = time.perf_counter()
        site = self.site
        now = self.options.now or datetime.now(timezone.utc)
        if site is None or not self.record or site.finger is None or site.views is None or site.renderer is None:
            return None
        if now.timestamp() >= site.horizon or output_id(self.out) != self.record.get("build_id"):
            return None
        edits: list[tuple[Document, list[SiteError]]] = []
        copies: dict[str, Path] = {}
        for rel, path in files.items():
            if rel.startswith("content/") and rel.lower().endswith(MARKDOWN_SUFFIXES):
                edit = self._edited_document(site, rel)
                if edit is None:
                    return None
                edits.append(edit)
            else:
                target = self._static_sources.get(os.path.realpath(path))
                if target is None or not path.is_file():
                    return None
                copies[target] = path
        fragments = site.renderer.env.bitopia_fragments  # type: ignore[attr-defined]
        touched: set[int] = set()
        warnings: list[SiteError] = []
        for doc, doc_warnings in edits:
            site.documents[doc.source] = doc
            view = site.views.refresh(doc)
            if view is not None:
                fragments.forget(view)
            touched.update(site.users.get(doc.source, ()))
            warnings += doc_warnings
        self._invalidate_saved_record()
        writer = InPlaceWriter(self.out)
        try:
            for number in sorted(touched):
                page = site.pages[number]
                value = site.finger.page(page)
                if value == site.fingerprints.get(page.path):
                    continue
                writer.put(page.path, site.renderer.render(page))
                site.fingerprints[page.path] = value
            for target, path in sorted(copies.items()):
                writer.put_file(target, path)
        except SiteError as err:
            self.site = None  # views were changed for a build that did not finish: start afresh
            raise BuildFailed([err]) from None
        except BaseException:
            self.site = None
            raise
        self.updates += 1
        counts = self.record["counts"]
        stats = WriteStats(writer.written, counts[0] + counts[3] - writer.written, 0, self.record["build_id"])
        return BuildResult(*counts, stats, time.perf_counter() - started, warnings, len(touched))

    def close(self) -> None:
        """Save the record of what the output holds, so the next server starts from it."""
        if self._unsaved and self.record:
            self.cache.save(*record_key(self.out), forget_pages(self.record, set()))
            self._unsaved = False

    def _edited_document(self, site: SiteBuild, rel: str) -> tuple[Document, list[SiteError]] | None:
        """The new document of an edited source, when the edit leaves its place in the site as it was."""
        old = site.documents.get(rel)
        if old is None or rel in site.global_uses:
            return None
        found = reparse(self.root, rel, content_settings(site.config), self.options.strict)
        if found is None or found[0].document is None:
            return None
        givers = [doc for doc in site.documents.values() if doc.is_section_index and doc.cascade]
        new = apply_cascades([*givers, found[0].document])[-1]
        if placement(new) != placement(old):
            return None
        options = self.options
        now = options.now or datetime.now(timezone.utc)
        visibility = Visibility(now, options.drafts, options.future, options.expired)
        new = resolve_one(new, site.documents.values(), visibility.shows, site.config.base_url)
        if new is None:  # a `ref` to no page: a whole build reports it
            return None
        return new, list(found[0].warnings)

    def _invalidate_saved_record(self) -> None:
        """The output is about to differ from the saved record: drop it until `close` saves anew."""
        if not self._unsaved:
            self.cache.drop(record_key(self.out)[0])
            self._unsaved = True
