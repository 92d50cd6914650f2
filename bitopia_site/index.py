"""All documents -> SiteIndex: the published set, sorted posts, sections, taxonomies, archives, series."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Callable

from bitopia_site.model import Document, Section, SiteIndex
from bitopia_site.publication import Visibility
from bitopia_site.related import RelatedIndex, RelatedSettings
from bitopia_site.taxonomy import build_taxonomies


def sort_key(doc: Document) -> tuple:
    """Newest first; then by title and source, so the order never depends on file-system order."""
    stamp = doc.date.timestamp() if doc.date else float("-inf")
    return (-stamp, doc.title.lower(), doc.source)


def _folder(doc: Document) -> str:
    """The folder of a section's _index.md, below content/ ('' for the home page's)."""
    return doc.source.removeprefix("content/").rpartition("/")[0]


def _nested_folders(doc: Document) -> list[str]:
    """The folders below the top one that hold `doc` (a leaf bundle's own folder not counted):
    content/a/b/c/x.md -> ['a/b', 'a/b/c']."""
    parts = doc.source.removeprefix("content/").split("/")[:-1]
    if doc.source.rsplit("/", 1)[-1].startswith("index."):
        parts = parts[:-1]
    return ["/".join(parts[:n]) for n in range(2, len(parts) + 1)]


def _main_posts(listed: tuple[Document, ...], main_sections: tuple[str, ...]) -> tuple[Document, ...]:
    """The posts the home page and the site's feed list: those whose type is one of `main_sections`;
    with none named (a Hugo site without `mainSections`), Hugo's default: the posts of the section
    that has the most (the first by name of those that have as many)."""
    if main_sections:
        return tuple(d for d in listed if d.type in main_sections and not d.is_page)
    sizes = Counter(d.section for d in listed if d.section and not d.is_page)
    if not sizes:
        return ()
    largest = min(sizes, key=lambda name: (-sizes[name], name))
    return tuple(d for d in listed if d.section == largest and not d.is_page)


def build_index(documents: list[Document], visibility: Visibility, taxonomies: tuple[str, ...],
                main_sections: tuple[str, ...], section_title: Callable[[str], str],
                related: RelatedSettings | None = None) -> SiteIndex:
    """Sort and group the published documents; every list, feed and sitemap reads this (and, with
    `related`, each post's related posts). A section with no title of its own gets
    `section_title(its folder's name)`."""
    # Each folder with an _index.md is a section (nested ones too), and so is each top folder; a
    # taxonomy's own _index.md (content/tags/_index.md) is no section: its page is the taxonomy's.
    indexes = {_folder(d): d for d in documents if d.is_section_index and _folder(d).split("/")[0] not in taxonomies}
    published = tuple(sorted((d for d in documents if not d.is_section_index and visibility.shows(d)), key=sort_key))
    rendered = tuple(d for d in published if d.render == "always")  # `build.render`: the pages written
    listed = tuple(d for d in published if d.listed == "always")  # `build.list`: site-wide lists and terms
    posts = _main_posts(listed, main_sections)

    by_section: dict[str, list[Document]] = defaultdict(list)
    for doc in published:
        if doc.section and not doc.is_page and doc.listed != "never":  # `local`: its own section's list
            by_section[doc.section].append(doc)
            for folder in _nested_folders(doc):
                if folder in indexes:
                    by_section[folder].append(doc)
    sections = []
    for name in sorted(set(by_section) | {s for s in indexes if s}):
        index_doc = indexes.get(name)
        title = index_doc.title if index_doc and index_doc.title else section_title(name.rpartition("/")[2])
        html = index_doc.html if index_doc else ""
        sections.append(Section(name, index_doc.url if index_doc else f"/{name}/", title, html,
                                tuple(by_section.get(name, ())), index_doc))

    neighbours: dict[str, tuple[Document | None, Document | None]] = {}
    for group in [posts, *(s.posts for s in sections)]:
        for i, doc in enumerate(group):
            if doc.source not in neighbours:
                older = group[i + 1] if i + 1 < len(group) else None
                newer = group[i - 1] if i > 0 else None
                neighbours[doc.source] = (older, newer)

    taxonomy_set = build_taxonomies(listed, taxonomies)
    series = {term.slug: tuple(reversed(term.posts))
              for tax in taxonomy_set if tax.name == "series" for term in tax.terms}

    years: dict[int, dict[int, list[Document]]] = defaultdict(lambda: defaultdict(list))
    for doc in posts:
        if doc.date:
            years[doc.date.year][doc.date.month].append(doc)
    archives = tuple(
        (year, tuple((month, tuple(years[year][month])) for month in sorted(years[year], reverse=True)))
        for year in sorted(years, reverse=True)
    )
    return SiteIndex(posts=posts, documents=rendered, pages=tuple(d for d in rendered if d.is_page),
                     sections=tuple(sections), taxonomies=taxonomy_set, archives=archives,
                     neighbours=neighbours, series=series,
                     related=RelatedIndex(posts, related, taxonomy_set) if related and related.count else None)
