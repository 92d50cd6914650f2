"""What is published, as Hugo decides it: drafts, `publishDate`, `expiryDate`, `headless`,
`build` options, and `cascade` from a section's `_index.md` to the pages below it. The one place
these rules live: every list, feed, sitemap, page and bundle resource follows `Visibility`."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, Callable, Iterable

from bitopia_site.config import SiteConfig
from bitopia_site.model import Document

RENDER_VALUES = ("always", "never", "link")
LIST_VALUES = ("always", "never", "local")
# Front-matter keys (lower case) that decide publication, and the Document fields they set.
PUBLICATION_KEYS = {"draft": "draft", "publishdate": "publish_date", "expirydate": "expiry_date",
                    "headless": "render", "build": "render"}

Fail = Callable[[str, str, str], None]  # (key, message, hint)


@dataclass(frozen=True, slots=True)
class Cascade:
    """Publication settings an `_index.md` hands down (`cascade:`), to the pages its target matches."""

    path: str | None  # `_target.path`: a Hugo glob on the page's path (/posts/**), None for all
    kind: str | None  # `_target.kind`: page or section, None for both
    values: tuple[tuple[str, Any], ...]  # Document field -> value


def read_build(get: Callable[[str], Any], fail: Fail, leaf_bundle: bool) -> dict[str, Any]:
    """The Document fields set by `headless` and `build` in front matter (or a cascade)."""
    fields: dict[str, Any] = {}
    headless = get("headless")
    if headless is not None:
        if not isinstance(headless, bool):
            fail("headless", f"headless must be true or false, not {headless!r}", "write `headless: true`")
        elif headless and leaf_bundle:  # as in Hugo: only a leaf bundle (a folder's index.md) is headless
            fields.update(render="never", listed="never", publish_resources=False)
    build = get("build")
    if build is None:
        return fields
    if not isinstance(build, dict):
        fail("build", "build must be a mapping", "write e.g. `build: {render: never, list: never}`")
        return fields
    keys = {str(k).lower(): v for k, v in build.items()}
    for key, field, allowed in (("render", "render", RENDER_VALUES), ("list", "listed", LIST_VALUES)):
        value = keys.get(key)
        if value is None:
            continue
        if isinstance(value, bool):  # Hugo's older form
            value = "always" if value else "never"
        if str(value).lower() not in allowed:
            fail("build", f"build.{key} must be one of {', '.join(allowed)}, not {value!r}",
                 f"write e.g. `build: {{{key}: never}}`")
            continue
        fields[field] = str(value).lower()
    publish = keys.get("publishresources")
    if publish is not None:
        if not isinstance(publish, bool):
            fail("build", f"build.publishResources must be true or false, not {publish!r}",
                 "write `publishResources: false`")
        else:
            fields["publish_resources"] = publish
    return fields


def read_cascades(value: Any, read: Callable[[dict[str, Any]], dict[str, Any]], fail: Fail) -> tuple[Cascade, ...]:
    """A `cascade:` value (a mapping, or a list of them, each with an optional `_target`) as
    Cascades; `read` turns a mapping of front matter into the publication fields it sets."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    cascades = []
    for item in items:
        if not isinstance(item, dict):
            fail("cascade", "cascade must be a mapping (or a list of mappings)", "write e.g. `cascade: {draft: true}`")
            continue
        target = item.get("_target", item.get("target")) or {}
        if not isinstance(target, dict):
            fail("cascade", "cascade's _target must be a mapping", "write e.g. `_target: {path: /posts/**}`")
            continue
        target = {str(k).lower(): v for k, v in target.items()}
        values = read({k: v for k, v in item.items() if k not in ("_target", "target")})
        if values:
            cascades.append(Cascade(_text(target.get("path")), _text(target.get("kind")),
                                    tuple(sorted(values.items()))))
    return tuple(cascades)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def page_path(doc: Document) -> str:
    """A document's path as Hugo's cascade targets name it: content/posts/a.md -> /posts/a,
    content/posts/b/index.md -> /posts/b, content/posts/_index.md -> /posts."""
    rel = PurePosixPath(doc.source).relative_to("content").with_suffix("")
    if rel.name in ("index", "_index"):
        rel = rel.parent
    return "/" + rel.as_posix().lower().strip("./")


def _glob(pattern: str) -> re.Pattern[str]:
    """A Hugo path glob as a regular expression: `**` crosses folders, `*` and `?` do not."""
    parts = re.split(r"(\*\*|\*|\?)", pattern.lower())
    swap = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(swap.get(part, re.escape(part)) for part in parts) + r"\Z")


def _matches(cascade: Cascade, doc: Document) -> bool:
    if cascade.kind is not None and cascade.kind.lower() != ("section" if doc.is_section_index else "page"):
        return False
    return cascade.path is None or bool(_glob(cascade.path).match(page_path(doc)))


def apply_cascades(documents: Iterable[Document]) -> list[Document]:
    """The documents with what the `cascade:` of each `_index.md` above them sets, where their own
    front matter does not set it; the nearest section's cascade wins."""
    documents = list(documents)
    givers = {str(PurePosixPath(d.source).parent): d.cascade for d in documents if d.is_section_index and d.cascade}
    if not givers:
        return documents
    result = []
    for doc in documents:
        changes: dict[str, Any] = {}
        folder = PurePosixPath(doc.source).parent
        if doc.is_section_index:
            folder = folder.parent  # a section's own cascade is for the pages below it
        for ancestor in [folder, *folder.parents]:
            for cascade in givers.get(str(ancestor), ()):
                if _matches(cascade, doc):
                    for field, value in cascade.values:
                        if _key_of(field) not in doc.own:
                            changes.setdefault(field, value)
            if str(ancestor) == "content":
                break
        result.append(replace(doc, **changes) if changes else doc)
    return result


def _key_of(field: str) -> str:
    """The front-matter key a Document field comes from (render, listed and publish_resources: `build`)."""
    return {"draft": "draft", "publish_date": "publishdate", "expiry_date": "expirydate"}.get(field, "build")


@dataclass(frozen=True, slots=True)
class Visibility:
    """Which documents are published: the one place drafts, future and expired posts are decided."""

    now: datetime
    drafts: bool = False
    future: bool = False
    expired: bool = False

    @classmethod
    def of_build(cls, now: datetime, drafts: bool, future: bool, expired: bool, config: SiteConfig) -> "Visibility":
        """What a build publishes: drafts, future and expired posts when its flags (--drafts…) or
        the site's config (Hugo's buildDrafts…) ask for them; a flag can only add to the config."""
        return cls(now, drafts or config.build_drafts, future or config.build_future, expired or config.build_expired)

    def reason(self, doc: Document) -> str | None:
        """Why `doc` is not published (None when it is)."""
        dated = "has a publishDate" if doc.publish_date else "is dated"
        hidden = self._hidden(doc.draft, doc.publish_date or doc.date, doc.expiry_date, dated)
        if hidden is None and doc.render != "always" and doc.listed == "never":
            return "is headless (build: never rendered nor listed)"
        return hidden

    def _hidden(self, draft: bool, due: datetime | None, expiry: datetime | None,
                dated: str = "is dated") -> str | None:
        """Why a page with this draft flag, publish date and expiry date is left out (None: it is not)."""
        if draft and not self.drafts:
            return "is a draft"
        if due is not None and due > self.now and not self.future:
            return f"{dated} in the future ({due.isoformat()})"
        if expiry is not None and expiry <= self.now and not self.expired:
            return f"expired on {expiry.isoformat()}"
        return None

    def shows(self, doc: Document) -> bool:
        """Whether `doc` is published: in lists (as its `build.list` says) and on its own page
        (as its `build.render` says)."""
        return self.reason(doc) is None

    def judges(self, status: tuple[bool, datetime | None, datetime | None] | None) -> bool:
        """Whether the problems of a file that did not parse count: only when the build would
        publish it, by what its front matter says (`status`: draft, publish date, expiry date)."""
        return status is None or self._hidden(*status) is None

    def resources_of(self, doc: Document) -> bool:
        """Whether the other files of `doc`'s leaf bundle are published."""
        return doc.publish_resources and self.shows(doc)
