"""Plain views of the model for templates: dicts with the fields a theme needs."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from markupsafe import Markup

from bitopia_site.model import Document, SiteIndex, Term
from bitopia_site.urls import urlize


_ROOT_LINK = re.compile(r'\b(href|src)="/(?!/)')


class Views:
    """Builds each document's view once; lists and pages share them."""

    def __init__(self, index: SiteIndex, now: datetime, base_path: str = "/") -> None:
        self.index = index
        self.now = now
        self.base_path = base_path
        self._cache: dict[str, dict[str, Any]] = {}
        self.digests: dict[int, str] = {}  # id(view) -> what it was made from, for fingerprints
        self._term_urls = {(t.taxonomy, t.slug): t.url for tax in index.taxonomies for t in tax.terms}

    def doc(self, doc: Document) -> dict[str, Any]:
        view = self._cache.get(doc.source)
        if view is None:
            view = self._cache[doc.source] = self._build(doc)
            self.digests[id(view)] = f"doc:{doc.digest}:{view['scheduled']}"
        return view

    def docs(self, docs: tuple[Document, ...] | list[Document]) -> list[dict[str, Any]]:
        return [self.doc(d) for d in docs]

    def _build(self, doc: Document) -> dict[str, Any]:
        terms = {
            taxonomy: [{"name": name, "url": self._term_urls.get((taxonomy, urlize(name)), "")} for name in names]
            for taxonomy, names in doc.terms
        }
        featured = None
        if doc.featured:
            featured = {"url": doc.featured.url, "alt": doc.featured.alt, "stretch": doc.featured.stretch}
        return {
            "title": doc.title, "url": doc.url, "date": doc.date, "lastmod": doc.lastmod or doc.date,
            "author": doc.author, "description": doc.description, "summary": Markup(self._rebase(doc.summary)),
            "truncated": doc.summary_is_excerpt, "content": Markup(self._rebase(doc.html)), "toc": doc.toc,
            "word_count": doc.word_count, "reading_time": doc.reading_time, "draft": doc.draft,
            "scheduled": bool(doc.date and doc.date > self.now),
            "section": doc.section, "type": doc.type, "source": doc.source, "params": doc.params,
            "terms": terms, "categories": terms.get("categories", []), "tags": terms.get("tags", []),
            "featured": featured, "is_page": doc.is_page,
        }

    def _rebase(self, html: str) -> str:
        """Root-relative links in content (`/img/x.jpg`) point below a base path like `/blog/`."""
        if self.base_path == "/":
            return html
        return _ROOT_LINK.sub(lambda m: f'{m.group(1)}="{self.base_path}', html)

    def post_extras(self, doc: Document) -> dict[str, Any]:
        """Previous/next and series navigation for one post page."""
        older, newer = self.index.neighbours.get(doc.source, (None, None))
        extras: dict[str, Any] = {
            "prev": self.link(older), "next": self.link(newer), "series": None,
        }
        for name in doc.terms_of("series")[:1]:
            parts = self.index.series.get(urlize(name), ())
            if doc in parts:
                extras["series"] = {
                    "name": name, "url": self._term_urls.get(("series", urlize(name)), ""),
                    "number": parts.index(doc) + 1, "total": len(parts),
                    "parts": [dict(self.link(p) or {}, current=p is doc) for p in parts],
                }
        return extras

    def link(self, doc: Document | None) -> dict[str, Any] | None:
        """Just enough of a post to link to it (prev/next, series parts, archives): pages that show
        only links need not change when a post's text does."""
        if doc is None:
            return None
        return {"title": doc.title, "url": doc.url, "date": doc.date, "draft": doc.draft,
                "scheduled": bool(doc.date and doc.date > self.now)}

    def term(self, term: Term) -> dict[str, Any]:
        return {"name": term.name, "slug": term.slug, "url": term.url, "count": len(term.posts),
                "taxonomy": term.taxonomy}
