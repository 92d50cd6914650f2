"""The taxonomy builder: group published documents by term slug, linear in the number of terms."""

from __future__ import annotations

from collections import Counter, defaultdict

from bitopia_site import urls
from bitopia_site.model import Document, Taxonomy, Term


def build_taxonomies(documents: tuple[Document, ...], names: tuple[str, ...]) -> tuple[Taxonomy, ...]:
    """One Taxonomy per configured name; terms whose slugs match are one term.

    `documents` must already be sorted newest first; each term keeps that order.
    """
    result = []
    for taxonomy in names:
        members: dict[str, list[Document]] = defaultdict(list)
        spellings: dict[str, Counter[str]] = defaultdict(Counter)
        for doc in documents:
            for name in doc.terms_of(taxonomy):
                slug = urls.urlize(name)
                if not members[slug] or members[slug][-1] is not doc:
                    members[slug].append(doc)
                spellings[slug][name] += 1
        terms = tuple(
            Term(taxonomy, _display_name(spellings[slug]), slug, f"/{taxonomy}/{slug}/", tuple(members[slug]))
            for slug in sorted(members)
        )
        result.append(Taxonomy(taxonomy, f"/{taxonomy}/", terms))
    return tuple(result)


def _display_name(spellings: Counter[str]) -> str:
    """The most used spelling of a term; ties go to the first in sort order."""
    return min(spellings.items(), key=lambda item: (-item[1], item[0]))[0]
