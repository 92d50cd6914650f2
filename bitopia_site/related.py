"""Related posts: for each post, the others that share its series, tags, categories (or any index
a site configures), best first, ranked as Hugo's related content ranks them.

A candidate's weight is the sum of the weights of the keywords (terms, a date, front-matter
`keywords`) it shares with the post; it is shown when that weight averaged over its matches,
scaled to 0..100, reaches `threshold / matches`; heavier first, then newer. Computed through the
term index (one bitset of posts per keyword), not by comparing every pair of posts.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bitopia_site.errors import SiteError
from bitopia_site.model import Document, Taxonomy
from bitopia_site.urls import urlize

PARAM_INDEX = "keywords"  # the one front-matter field (not a taxonomy) an index may name: see views.placement
DATE_INDEX = "date"
_SUBSETS_UP_TO = 10  # a post with more keywords is ranked by counting, not by its keyword subsets
DEFAULT_INDICES = (("series", 100), ("tags", 80), ("categories", 60))


@dataclass(frozen=True, slots=True)
class RelatedSettings:
    """How related posts are found: the indices and their weights, the threshold (0..100), whether
    newer posts count, how many a post shows (0: none)."""

    indices: tuple[tuple[str, int], ...] = DEFAULT_INDICES
    threshold: int = 80
    include_newer: bool = True
    count: int = 5
    to_lower: bool = False
    date_pattern: str = "%Y"  # how the `date` index words a date: posts of one year match

    @classmethod
    def hugo_default(cls) -> "RelatedSettings":
        """Hugo's own defaults, for a site read from a Hugo config."""
        return cls((("keywords", 100), ("date", 10), ("tags", 80)), include_newer=False)


def settings_from_site_yaml(given: Any, path: Path) -> RelatedSettings:
    """`related:` of a site.yaml: `false` (none), or any of count, threshold, include_newer and
    `indices` (a mapping of index name to weight)."""
    if given is False:
        return RelatedSettings(count=0)
    if not isinstance(given, dict):
        raise SiteError(path.name, "related must be a mapping (or false)",
                        "write e.g. `related: {count: 5, indices: {series: 100, tags: 80}}`")
    unknown = set(given) - {"count", "threshold", "include_newer", "indices"}
    if unknown:
        raise SiteError(path.name, f"related: unknown setting `{sorted(unknown)[0]}`",
                        "known: count, threshold, include_newer, indices")
    indices = given.get("indices", dict(DEFAULT_INDICES))
    if not isinstance(indices, dict):
        raise SiteError(path.name, "related.indices must map an index name to its weight",
                        "write e.g. `indices: {series: 100, tags: 80, categories: 60}`")
    return _checked(RelatedSettings(
        indices=tuple((str(name), _whole(weight, f"related.indices.{name}", path)) for name, weight in indices.items()),
        threshold=_whole(given.get("threshold", 80), "related.threshold", path),
        include_newer=_yes_no(given.get("include_newer", True), "related.include_newer", path),
        count=_whole(given.get("count", 5), "related.count", path)), path)


def settings_from_hugo(given: Any, path: Path) -> RelatedSettings:
    """Hugo's `[related]`: threshold, includeNewer, toLower and `[[related.indices]]` with name,
    weight and (for dates) a Go layout as pattern; Hugo's defaults where it is not set."""
    if given is None:
        return RelatedSettings.hugo_default()
    if not isinstance(given, dict):
        raise SiteError(path.name, "related must be a table", "see Hugo's related content settings")
    data = {str(k).lower(): v for k, v in given.items()}
    base = RelatedSettings.hugo_default()
    indices, pattern = base.indices, base.date_pattern
    if data.get("indices") is not None:
        if not isinstance(data["indices"], list):
            raise SiteError(path.name, "related.indices must be a list of tables with a name and a weight",
                            "write [[related.indices]] name = 'tags' weight = 80")
        named = []
        for entry in data["indices"]:
            entry = {str(k).lower(): v for k, v in (entry.items() if isinstance(entry, dict) else ())}
            if not entry.get("name"):
                raise SiteError(path.name, "each related index needs a name", "add `name = 'tags'`")
            named.append((str(entry["name"]), _whole(entry.get("weight", 0), "related.indices.weight", path)))
            if str(entry["name"]) == DATE_INDEX and entry.get("pattern"):
                pattern = go_layout(str(entry["pattern"]))
        indices = tuple(named)
    return _checked(RelatedSettings(
        indices=indices, threshold=_whole(data.get("threshold", base.threshold), "related.threshold", path),
        include_newer=_yes_no(data.get("includenewer", False), "related.includeNewer", path),
        to_lower=_yes_no(data.get("tolower", False), "related.toLower", path), date_pattern=pattern), path,
        negative_weights=True)


def go_layout(layout: str) -> str:
    """A Go time layout (`2006`, `200601`, `2006-01`) as a strftime pattern."""
    out = layout
    for go, c in (("January", "%B"), ("Jan", "%b"), ("2006", "%Y"), ("01", "%m"), ("02", "%d"), ("06", "%y")):
        out = out.replace(go, c)
    return out


def _whole(value: Any, name: str, path: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).lstrip("-").isdigit():
        raise SiteError(path.name, f"{name} must be a whole number, not {value!r}", f"write e.g. `{name.rpartition('.')[2]}: 80`")
    return int(value)


def _yes_no(value: Any, name: str, path: Path) -> bool:
    if not isinstance(value, bool):
        raise SiteError(path.name, f"{name} must be true or false, not {value!r}", "write true or false")
    return value


def _checked(settings: RelatedSettings, path: Path, negative_weights: bool = False) -> RelatedSettings:
    """`settings`, or the error of the first value out of range; a Hugo config may give an index a
    negative weight (Hugo scales by it), which here leaves the index out as a weight of 0 does."""
    if not 0 <= settings.threshold <= 100:
        raise SiteError(path.name, f"related threshold must be between 0 and 100, not {settings.threshold}",
                        "80 (Hugo's default) shows posts that share a tag; lower shows more")
    if settings.count < 0:
        raise SiteError(path.name, "related count cannot be negative", "write 0 to show none")
    for name, weight in settings.indices if not negative_weights else ():
        if weight < 0:
            raise SiteError(path.name, f"related index `{name}` has a negative weight",
                            "give it a weight of 0 to leave it out, or more to count it")
    return settings


class RelatedIndex:
    """The related posts of each of `posts` (newest first, as the site lists them)."""

    def __init__(self, posts: tuple[Document, ...], settings: RelatedSettings, taxonomies: tuple[Taxonomy, ...]) -> None:
        """`taxonomies`: the site's, whose terms list their posts (the posting lists of those indices)."""
        self.posts = posts
        self.settings = settings
        self.weights = {name: weight for name, weight in settings.indices if weight > 0}
        self.max_weight = max((weight for _, weight in settings.indices), default=0)
        self.position = {doc.source: number for number, doc in enumerate(posts)}
        self._slugs: dict[str, str] = {}  # term -> its slug, made once
        having: dict[tuple[str, str], bytearray] = {}  # keyword -> bitmap of the posts that have it (bit n: posts[n])
        size = len(posts) // 8 + 1

        def have(key: tuple[str, str], number: int) -> None:
            bitmap = having.get(key)
            if bitmap is None:
                bitmap = having[key] = bytearray(size)
            bitmap[number >> 3] |= 1 << (number & 7)

        for taxonomy in taxonomies:
            if self.weights.get(taxonomy.name):
                for term in taxonomy.terms:
                    for doc in term.posts:
                        if (number := self.position.get(doc.source)) is not None:
                            have((taxonomy.name, term.slug), number)
        if DATE_INDEX in self.weights or PARAM_INDEX in self.weights:
            for number, doc in enumerate(posts):
                for key in self._own_words(doc):
                    have(key, number)
        self.postings = {key: int.from_bytes(bitmap, "little") for key, bitmap in having.items()}
        self._stamps = [-(doc.date.timestamp()) if doc.date else float("inf") for doc in posts]
        self._orders: dict[tuple[int, ...], list[tuple[int, list[tuple[int, ...]]]]] = {}

    def _words(self, doc: Document) -> list[tuple[tuple[str, str], int]]:
        """The keywords of `doc` in each index (a term's slug, the worded date, a front-matter
        keyword), each once, with the index's weight."""
        words: dict[tuple[str, str], int] = {}
        for taxonomy, names in doc.terms:
            weight = self.weights.get(taxonomy)
            if weight:
                for name in names:
                    slug = self._slugs.get(name)
                    if slug is None:
                        slug = self._slugs[name] = urlize(name)
                    words[(taxonomy, slug)] = weight
        for key in self._own_words(doc):
            words[key] = self.weights[key[0]]
        return [(key, weight) for key, weight in words.items() if key in self.postings]

    def _own_words(self, doc: Document) -> list[tuple[str, str]]:
        """`doc`'s keywords of the indices that are no taxonomy: its worded date, its `keywords`."""
        words = []
        if DATE_INDEX in self.weights and doc.date is not None:
            words.append((DATE_INDEX, doc.date.strftime(self.settings.date_pattern)))
        if PARAM_INDEX in self.weights:
            given = doc.params.get(PARAM_INDEX)
            for value in given if isinstance(given, list) else [given] if isinstance(given, str) else []:
                words.append((PARAM_INDEX, str(value).lower() if self.settings.to_lower else str(value)))
        return words

    def of(self, doc: Document) -> tuple[Document, ...]:
        """`doc`'s related posts, best first: at most `count`, never itself."""
        number = self.position.get(doc.source)
        words = self._words(doc) if number is not None and self.settings.count else []
        if not words:
            return ()
        # Bit n of a posting, shifted by `first`, is posts[first + n]: posts dated after this one
        # (as Hugo, unless include_newer) are shifted out, and the numbers stay small.
        first = 0 if self.settings.include_newer else bisect.bisect_left(self._stamps, self._stamps[number])
        bits = [self.postings[key] >> first for key, _ in words]
        weights = tuple(weight for _, weight in words)
        found = (self._counted if len(words) > _SUBSETS_UP_TO else self._by_subsets)(weights, bits, number - first)
        return tuple(self.posts[first + at] for at in found)

    def _by_subsets(self, weights: tuple[int, ...], bits: list[int], itself: int) -> list[int]:
        """Walk the subsets of the post's keywords from the heaviest down: the posts that have all of
        a subset's keywords and were not met under a heavier one share exactly that subset (weights
        are positive, so sharing more weighs more). The first `count` met, heavier and newer first."""
        count = self.settings.count
        found: list[int] = []
        seen = 0
        for _, subsets in self._levels(weights):
            level = 0
            for subset in subsets:
                have = bits[subset[0]]
                for at in subset[1:]:
                    have &= bits[at]
                    if not have:
                        break
                have ^= have & seen
                if have:
                    seen |= have
                    if self._shown(sum(weights[at] for at in subset), len(subset)):
                        level |= have
            while level:
                low = level & -level
                level ^= low
                at = low.bit_length() - 1
                if at != itself:
                    found.append(at)
                    if len(found) == count:
                        return found
        return found

    def _levels(self, weights: tuple[int, ...]) -> list[tuple[int, list[tuple[int, ...]]]]:
        """Every non-empty subset of keyword positions, grouped by total weight, heaviest first."""
        levels = self._orders.get(weights)
        if levels is None:
            grouped: dict[int, list[tuple[int, ...]]] = {}
            for size in range(1, len(weights) + 1):
                for subset in itertools.combinations(range(len(weights)), size):
                    grouped.setdefault(sum(weights[at] for at in subset), []).append(subset)
            levels = self._orders[weights] = sorted(grouped.items(), reverse=True)
        return levels

    def _counted(self, weights: tuple[int, ...], bits: list[int], itself: int) -> list[int]:
        """The same ranking by adding up each candidate's matches (for a post with many keywords)."""
        score: dict[int, list[int]] = {}
        for weight, have in zip(weights, bits):
            while have:
                low = have & -have
                have ^= low
                entry = score.setdefault(low.bit_length() - 1, [0, 0])
                entry[0] += weight
                entry[1] += 1
        score.pop(itself, None)
        shown = [(-total, at) for at, (total, matches) in score.items() if self._shown(total, matches)]
        return [at for _, at in sorted(shown)[:self.settings.count]]

    def _shown(self, total: int, matches: int) -> bool:
        """Hugo's threshold: the average weight of the matches, scaled to 0..100, against threshold / matches."""
        if self.max_weight <= 0:
            return False
        scaled = int((total // matches) / self.max_weight * 100 + 0.5)
        return scaled >= self.settings.threshold // matches

