"""The site indexed and planned again from the documents kept in memory, after some moved in it
(new, deleted, retitled, re-dated, retagged, drafted...): only the moved ones were read; the index,
the plan and the site's globals are made again from the others as they were parsed, and the views
and links of the others are kept (`Views.moved`), so the cards lists show of them are not made again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Collection, Mapping

from bitopia_site.errors import Report, SiteError
from bitopia_site.fingerprint import Fingerprinter
from bitopia_site.index import build_index
from bitopia_site.model import Document, OutputPage, SiteIndex
from bitopia_site.plan import PlanSettings, add_sitemap, check_collisions, plan_site
from bitopia_site.stages import (BuildOptions, RenderedSite, check_images, fingerprinter, publish_horizon,
                                 template_globals)


@dataclass(frozen=True)
class Reindexed:
    """The site after the moves, not planned yet: its documents and index, the site's globals and
    the fingerprinter of its pages (with the documents every page shows), when time alone next
    changes it, and warnings of the moved documents."""

    documents: dict[str, Document]
    index: SiteIndex
    site_globals: dict[str, Any]
    finger: Fingerprinter
    global_uses: frozenset[str]
    horizon: float
    warnings: list[SiteError]


def why_not(site: RenderedSite, moved: Mapping[str, Document | None]) -> str:
    """Why the moves need a whole build ('' when they do not): a section's page or a cascade (they
    change other documents), a leaf bundle (its files are the site's), links by `ref` (a moved
    page's URL is in other pages' text)."""
    if site.views is None or site.renderer is None or site.theme is None or site.visibility is None:
        return "the last build kept no site in memory"
    if site.with_refs:
        return "pages link to others by ref"
    for source, new in moved.items():
        for doc in (site.documents.get(source), new):
            if doc is not None and (doc.is_section_index or doc.cascade):
                return f"{source} is a section's page"
        if source.rpartition("/")[2].startswith("index."):
            return f"{source} is a leaf bundle"
    return ""


def reindex(site: RenderedSite, moved: Mapping[str, Document | None], options: BuildOptions,
            now: datetime) -> Reindexed | None:
    """The site with `moved` (source -> its new document, None when gone) applied; the views kept
    in memory are updated in place. None when pages cannot be fingerprinted; check `why_not` first."""
    assert site.views is not None and site.theme is not None and site.visibility is not None
    config, views = site.config, site.views
    documents = {**site.documents, **{source: doc for source, doc in moved.items() if doc is not None}}
    for source, doc in moved.items():
        if doc is None:
            documents.pop(source, None)
    ordered = [documents[source] for source in sorted(documents)]
    index = build_index(ordered, replace(site.visibility, now=now), config.taxonomies, config.main_sections,
                        config.section_title, config.related)
    views.moved(index, now, [doc for doc in moved.values() if doc is not None],
                [source for source, doc in moved.items() if doc is None])
    report = Report()
    check_images([doc for doc in moved.values() if doc is not None], site.static, views.images, report)
    site_globals = template_globals(config, site.theme.params, index, views, now, site.static)
    made = fingerprinter(views, config, site.theme, site_globals, site.static, options)
    if made is None:
        return None
    return Reindexed(documents, index, site_globals, made[0], made[1], publish_horizon(ordered, now), report.warnings)


def plan(site: RenderedSite, index: SiteIndex, only: Collection[str] | None = None) -> list[OutputPage] | None:
    """The site's pages (with `only`, just those of these output paths, no sitemap); None when
    two of them have one URL (a whole build reports it)."""
    assert site.views is not None
    config = site.config
    pages = plan_site(index, site.views, PlanSettings.of(config), only, static=site.static)
    if only is not None:
        return pages
    pages = add_sitemap(pages, config.kinds_off)
    return None if check_collisions(pages, site.static) else pages
