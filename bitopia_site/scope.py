"""How far an edit reaches: the one rule that says which pages a set of changed files makes stale,
or that the whole site must be read and planned again.

`build` asks it with what the record of the last build says (patch.py); `serve` with the site it
keeps in memory (incremental.py). Pure: the callers read the files; this only decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Collection, Generic, Iterable, Mapping, TypeVar

Page = TypeVar("Page")


@dataclass(frozen=True)
class Edit:
    """One changed file of the site (`content/posts/x.md`, `static/site.css`, `site.yaml`).

    For a document, `before` is the digest of its place in the site (title, dates, URL, terms,
    draft state...: `views.placement_digest`) in the last build and `after` the digest now; None
    where there is none: not a document of the last build, or not one now (gone, unreadable,
    broken, or one that cannot take the short way). `gone`: the file no longer exists.
    """

    path: str
    before: str | None = None
    after: str | None = None
    gone: bool = False


@dataclass(frozen=True)
class Reach(Generic[Page]):
    """What an edit makes stale: `whole` says why every page must be read and planned again ("" when
    not); otherwise the pages to render again, the static files to copy again, and the documents
    that moved in the site (new, gone, retitled...): with any, the site's lists are planned again
    from the documents already read, and only the moved ones read."""

    whole: str = ""
    pages: frozenset[Page] = field(default_factory=frozenset)
    copies: frozenset[str] = field(default_factory=frozenset)
    moved: frozenset[str] = field(default_factory=frozenset)


def reach(edits: Iterable[Edit], shown_on: Mapping[str, Iterable[Page]], on_every_page: Collection[str],
          static_files: Collection[str]) -> Reach[Page]:
    """How far `edits` reach, given which pages show each document (`shown_on`), the documents
    shown on every page (through the site's globals: the recent posts, say) and the site's
    static files. A document that keeps its place in the site touches only the pages showing it;
    a new, deleted or moved document moves in the site's lists; a static file changed in place is
    copied again; anything else (a template, the config, a broken file) reaches the whole site."""
    pages: set[Page] = set()
    copies: set[str] = set()
    moved: set[str] = set()
    edits = list(edits)
    if not edits:
        return Reach("nothing is known to have changed")
    for edit in edits:
        if edit.before is None and edit.after is None:
            if edit.path not in static_files:
                return Reach(f"{edit.path} is not a post, page or static file of the last build")
            copies.add(edit.path)
        elif edit.after is None and not edit.gone:
            return Reach(f"{edit.path} cannot be read, or must be read with the whole site")
        elif edit.before != edit.after:  # new, gone, or its title, dates, URL, terms or draft state changed
            moved.add(edit.path)
        elif edit.path in on_every_page:
            return Reach(f"{edit.path} is shown on every page")
        else:
            pages.update(shown_on.get(edit.path, ()))
    return Reach("", frozenset(pages), frozenset(copies), frozenset(moved))
