"""The content model: frozen, slotted dataclasses the pipeline passes along."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any, TypeVar

from markupsafe import Markup

from bitopia_site.body import Body

T = TypeVar("T")


def quick_pickle(cls: type[T]) -> type[T]:
    """Pickle a frozen, slotted dataclass as its class and field values: the default way calls
    dataclasses.fields() for every object, which was most of the time of loading the cache."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    get = attrgetter(*names)
    if len(names) == 1:
        cls.__reduce__ = lambda self: (cls, (get(self),))  # type: ignore[method-assign,assignment]
    else:
        cls.__reduce__ = lambda self: (cls, get(self))  # type: ignore[method-assign,assignment]
    return cls


@quick_pickle
@dataclass(frozen=True, slots=True)
class Source:
    """One content file as read from disk: its site-relative path and text."""

    path: str  # relative to the site root, with '/' separators: content/posts/x.md
    text: str


@quick_pickle
@dataclass(frozen=True, slots=True)
class Featured:
    """A featured image: the URL pages show, and the site file it should come from."""

    url: str  # '/img/2014/08/x.jpg' or an absolute http(s) URL
    file: str | None  # 'img/2014/08/x.jpg' below content/ or static/; None for external images
    alt: str
    stretch: str


@dataclass(frozen=True, slots=True)
class Document:
    """A post, a page or a section's _index.md, parsed and rendered to HTML."""

    source: str
    section: str  # first folder below content/ ('' for the root)
    type: str  # front-matter `type`, else the section
    title: str
    date: datetime | None
    lastmod: datetime | None
    expiry_date: datetime | None
    draft: bool
    url: str
    slug: str
    aliases: tuple[str, ...]
    author: str
    description: str
    terms: tuple[tuple[str, tuple[str, ...]], ...]  # (taxonomy, term names)
    weight: int
    featured: Featured | None
    html: Body
    summary: str
    summary_is_excerpt: bool
    toc: tuple[tuple[int, str, str], ...]
    word_count: int
    reading_time: int
    is_section_index: bool = False
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    digest: str = ""  # hash of the source text and the parse settings: what the document came from
    # Hugo's publication settings (see publication.py), after the cascades of the sections above it:
    publish_date: datetime | None = None  # front matter `publishDate`: not published before it
    render: str = "always"  # build.render: always, never or link (no page written)
    listed: str = "always"  # build.list: always, never or local (in its section's list only)
    publish_resources: bool = True  # a leaf bundle's other files are published with it
    own: frozenset[str] = frozenset()  # the publication keys its own front matter sets (a cascade does not)
    cascade: tuple[Any, ...] = field(default=(), compare=False, hash=False)  # publication.Cascade, for below
    summary_text: str = ""  # the summary as text, as `Markup(summary).striptags()` gives it (cards, meta tags)

    @property
    def is_page(self) -> bool:
        """Standalone pages (`type: page`) stay out of lists, feeds and archives."""
        return self.type == "page"

    def terms_of(self, taxonomy: str) -> tuple[str, ...]:
        for name, values in self.terms:
            if name == taxonomy:
                return values
        return ()

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as field values, the HTML as its bytes and the summary as plain text: unpickling a
        str subclass goes through Python for every object, and the document cache holds one per post."""
        values = _DOCUMENT_FIELDS(self)
        return _document, (*values[:_HTML], bytes(self.html), str(self.summary), *values[_HTML + 2:])


_DOCUMENT_NAMES = [f.name for f in fields(Document)]
_DOCUMENT_FIELDS = attrgetter(*_DOCUMENT_NAMES)
_HTML = _DOCUMENT_NAMES.index("html")
assert _DOCUMENT_NAMES[_HTML + 1] == "summary"


def _document(*values: Any) -> Document:
    """A Document from `Document.__reduce__`'s values, its HTML a Body and its summary Markup again."""
    html, summary = values[_HTML:_HTML + 2]
    return Document(*values[:_HTML], Body(html), str.__new__(Markup, summary), *values[_HTML + 2:])


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a taxonomy and the posts that carry it, newest first."""

    taxonomy: str
    name: str
    slug: str
    url: str
    posts: tuple[Document, ...]


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A taxonomy (categories, tags, series) and its terms, sorted by name."""

    name: str
    url: str
    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """A folder under content/ with posts in it."""

    name: str
    url: str
    title: str
    html: Body | str
    posts: tuple[Document, ...]
    index: Document | None


@dataclass(frozen=True, slots=True)
class SiteIndex:
    """All that is published, sorted: what every list, feed and sitemap reads."""

    posts: tuple[Document, ...]  # listable posts of the main sections, newest first
    documents: tuple[Document, ...]  # every published post and page
    pages: tuple[Document, ...]  # type: page
    sections: tuple[Section, ...]
    taxonomies: tuple[Taxonomy, ...]
    archives: tuple[tuple[int, tuple[tuple[int, tuple[Document, ...]], ...]], ...]  # year -> month -> posts
    neighbours: dict[str, tuple[Document | None, Document | None]] = field(compare=False, hash=False)
    series: dict[str, tuple[Document, ...]] = field(compare=False, hash=False)
    related: Any = field(default=None, compare=False, hash=False)  # related.RelatedIndex of the posts, or None


@dataclass(frozen=True, slots=True)
class OutputPage:
    """One file to render: where it goes, with which template, and what the template sees."""

    path: str  # relative to the output folder
    url: str
    templates: tuple[str, ...]  # the first that exists is used
    context: dict[str, Any] = field(compare=False, hash=False)
    in_sitemap: bool = False
