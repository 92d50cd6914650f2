"""Plain views of the model for templates: dicts with the fields a theme needs."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any, Iterable

from markupsafe import Markup

from bitopia_site.body import Body
from bitopia_site.images import ImageSet, may_hold_images
from bitopia_site.model import Document, SiteIndex, Term
from bitopia_site.urls import urlize


_ROOT_LINK = re.compile(r'\b(href|src)="/(?!/)')


def placement(doc: Document) -> tuple:
    """What lists, links, feeds and the plan read of a document: while it stays the same, an edit
    changes the document's own view and nothing else (dates as text: the offset shows)."""
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    layout = doc.params.get("layout")
    return (doc.section, doc.type, doc.title, iso(doc.date), iso(doc.lastmod), iso(doc.expiry_date), doc.draft,
            doc.url, doc.slug, doc.aliases, doc.terms, doc.weight, doc.featured, doc.is_section_index,
            layout if isinstance(layout, str) else None, iso(doc.publish_date), doc.render, doc.listed,
            doc.publish_resources, doc.cascade, doc.params.get("keywords"))  # keywords: a related-posts index


def placement_digest(doc: Document) -> str:
    """A short hash of `placement(doc)`, for the record the next build compares with."""
    return hashlib.blake2b(repr(placement(doc)).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def _featured(doc: Document) -> dict[str, str] | None:
    image = doc.featured
    return {"url": image.url, "alt": image.alt, "stretch": image.stretch} if image else None


def _view_digest(doc: Document, view: dict[str, Any]) -> str:
    """What a view was made from: its document, whether it is scheduled, and its terms' URLs (a
    term's page comes and goes with the other posts that have it)."""
    term_urls = ",".join(term["url"] for terms in view["terms"].values() for term in terms)
    return f"doc:{doc.digest}:{view['scheduled']}:{term_urls}"


class Views:
    """Builds each document's view once; lists and pages share them."""

    def __init__(self, index: SiteIndex, now: datetime, base_path: str = "/", images: ImageSet | None = None) -> None:
        self.index = index
        self.now = now
        self.base_path = base_path
        self.images = images if images is not None else ImageSet(base_path=base_path)
        self._cache: dict[str, dict[str, Any]] = {}
        self.digests: dict[int, str] = {}  # id(view) -> what it was made from, for fingerprints
        self.sources: dict[int, str] = {}  # id(view) -> its document's source, for page dependencies
        self._links: dict[str, dict[str, Any]] = {}
        self.link_ids: set[int] = set()  # id(link) of every link made: fingerprints flatten each once
        self._term_urls = {(t.taxonomy, t.slug): t.url for tax in index.taxonomies for t in tax.terms}

    def doc(self, doc: Document) -> dict[str, Any]:
        view = self._cache.get(doc.source)
        if view is None:
            view = self._cache[doc.source] = self._build(doc)
            self.digests[id(view)] = _view_digest(doc, view)
            self.sources[id(view)] = doc.source
        return view

    def refresh(self, doc: Document) -> dict[str, Any] | None:
        """Rebuild the view of a document edited since, in place, so every list holding it sees the
        edit; None when no page shows it."""
        view = self._cache.get(doc.source)
        if view is None:
            return None
        view.clear()
        view.update(self._build(doc))
        self.digests[id(view)] = _view_digest(doc, view)
        return view

    def moved(self, index: SiteIndex, now: datetime, docs: Iterable[Document], gone: Iterable[str]) -> None:
        """Point at `index`, made after `docs` moved in the site (new, retitled, re-dated...): their
        views and links are made again in place, so every list holding them sees the change; a
        gone document's are dropped; a view showing a term whose page came or went is made again."""
        self.index, self.now = index, now
        term_urls = {(t.taxonomy, t.slug): t.url for tax in index.taxonomies for t in tax.terms}
        changed_terms = term_urls.keys() ^ self._term_urls.keys()
        self._term_urls = term_urls
        for source in gone:
            for kept in (self._cache.pop(source, None), self._links.pop(source, None)):
                if kept is not None:
                    self.digests.pop(id(kept), None)
                    self.sources.pop(id(kept), None)
                    self.link_ids.discard(id(kept))
        renew = {doc.source: doc for doc in docs}
        if changed_terms:
            renew.update((doc.source, doc) for doc in index.documents
                         if any((tax, urlize(name)) in changed_terms for tax, names in doc.terms for name in names))
        for doc in renew.values():
            self.refresh(doc)
            link = self._links.get(doc.source)
            if link is not None:
                link.clear()
                link.update(self._link_fields(doc))

    def docs(self, docs: tuple[Document, ...] | list[Document]) -> list[dict[str, Any]]:
        return [self.doc(d) for d in docs]

    def _build(self, doc: Document) -> dict[str, Any]:
        terms = {
            taxonomy: [{"name": name, "url": self._term_urls.get((taxonomy, urlize(name)), "")} for name in names]
            for taxonomy, names in doc.terms
        }
        return {
            "title": doc.title, "url": doc.url, "date": doc.date, "lastmod": doc.lastmod or doc.date,
            "author": doc.author, "description": doc.description,
            "summary": self._rebase(self._sized(doc.summary, doc)), "summary_text": doc.summary_text,
            "truncated": doc.summary_is_excerpt, "content": self._rebase(self._sized(doc.html, doc)), "toc": doc.toc,
            "word_count": doc.word_count, "reading_time": doc.reading_time, "draft": doc.draft,
            "scheduled": bool(doc.date and doc.date > self.now),
            "section": doc.section, "type": doc.type, "source": doc.source, "params": doc.params,
            "terms": terms, "categories": terms.get("categories", []), "tags": terms.get("tags", []),
            "featured": _featured(doc), "is_page": doc.is_page,
        }

    def _sized(self, html: Body | str, doc: Document) -> Body | str:
        """`html` with its images given their sizes and smaller copies (images.py)."""
        if not self.images.enabled or not may_hold_images(html):
            return html
        sized = self.images.rewrite(str(html), doc.url, eager_first=doc.featured is None)
        return Body(sized) if isinstance(html, Body) else Markup(sized)

    def _rebase(self, html: Body | str) -> Body | Markup:
        """Root-relative links in content (`/img/x.jpg`) point below a base path like `/blog/`.
        The document's own HTML (a Body, or Markup) is shared, not copied, where nothing changes."""
        if self.base_path == "/":
            return html if isinstance(html, (Body, Markup)) else Markup(html)
        rebased = _ROOT_LINK.sub(lambda m: f'{m.group(1)}="{self.base_path}', str(html))
        return Body(rebased) if isinstance(html, Body) else Markup(rebased)

    def post_extras(self, doc: Document) -> dict[str, Any]:
        """Previous/next, series navigation and related posts for one post page."""
        older, newer = self.index.neighbours.get(doc.source, (None, None))
        related = self.index.related.of(doc) if self.index.related is not None else ()
        extras: dict[str, Any] = {
            "prev": self.link(older), "next": self.link(newer), "series": None, "related": self.links(related),
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
        """Just enough of a post to link to it (prev/next, series parts, archives, recent posts):
        pages that show only links need not change when a post's text does. One per document: a
        link holds only what places the document, which an edit kept in memory leaves as it was."""
        if doc is None:
            return None
        link = self._links.get(doc.source)
        if link is None:
            link = self._links[doc.source] = self._link_fields(doc)
            self.link_ids.add(id(link))
        return link

    def _link_fields(self, doc: Document) -> dict[str, Any]:
        return {"title": doc.title, "url": doc.url, "date": doc.date, "draft": doc.draft,
                "scheduled": bool(doc.date and doc.date > self.now), "featured": _featured(doc)}

    def links(self, docs: tuple[Document, ...] | list[Document]) -> list[dict[str, Any]]:
        return [self.link(d) for d in docs]  # type: ignore[misc]

    def term(self, term: Term) -> dict[str, Any]:
        return {"name": term.name, "slug": term.slug, "url": term.url, "count": len(term.posts),
                "taxonomy": term.taxonomy}
