"""Related posts: the ranking against Hugo's algorithm written out plainly, the settings, and the
block under a post in the default theme."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from bitopia_site.cli import main
from bitopia_site.content import ContentSettings, parse
from bitopia_site.index import sort_key
from bitopia_site.taxonomy import build_taxonomies
from bitopia_site.model import Document, Source
from bitopia_site.related import RelatedIndex, RelatedSettings, go_layout
from bitopia_site.urls import urlize

REPO = Path(__file__).resolve().parents[1]
TAXONOMIES = ("series", "tags", "categories")


def _base() -> Document:
    parsed = parse(Source("content/posts/base.md", "---\ntitle: Base\ndate: 2020-01-01\n---\nText.\n"),
                   ContentSettings("UTC", TAXONOMIES, (("post", "/:slug/"),), 70))
    assert parsed.document is not None
    return parsed.document


BASE = _base()


def post(number: int, day: int, tags: list[str], categories: list[str] = [], series: list[str] = [],
         keywords: list[str] | None = None, year: int = 2020) -> Document:
    terms = tuple((name, tuple(values)) for name, values in (("series", series), ("tags", tags),
                                                             ("categories", categories)) if values)
    return replace(BASE, source=f"content/posts/p{number}.md", title=f"Post {number}", url=f"/p{number}/",
                   date=datetime(year, 1, 1 + day, tzinfo=timezone.utc), terms=terms,
                   params={"keywords": keywords} if keywords is not None else {})


def related_index(posts: tuple[Document, ...], given: RelatedSettings) -> RelatedIndex:
    return RelatedIndex(posts, given, build_taxonomies(posts, TAXONOMIES))


def hugo_related(doc: Document, posts: tuple[Document, ...], given: RelatedSettings) -> list[Document]:
    """Hugo's related/inverted_index.go, pair by pair: each shared keyword adds its index's weight;
    kept when the average weight, scaled to 0..100, reaches threshold / matches; heavier, then newer."""
    weights = {name: weight for name, weight in given.indices if weight > 0}
    top = max((weight for _, weight in given.indices), default=0)

    def words(d: Document) -> set[tuple[str, str]]:
        found = {(tax, urlize(name)) for tax, names in d.terms if tax in weights for name in names if urlize(name)}
        if "date" in weights and d.date:
            found.add(("date", d.date.strftime(given.date_pattern)))
        if "keywords" in weights:
            found |= {("keywords", str(k).lower() if given.to_lower else str(k)) for k in d.params.get("keywords") or []}
        return found

    mine = words(doc)
    ranked = []
    for position, other in enumerate(posts):
        if other is doc or (not given.include_newer and other.date > doc.date):  # type: ignore[operator]
            continue
        shared = mine & words(other)
        if not shared or top <= 0:
            continue
        total, matches = sum(weights[index] for index, _ in shared), len(shared)
        if int((total // matches) / top * 100 + 0.5) >= given.threshold // matches:
            ranked.append((-total, position, other))
    return [other for _, _, other in sorted(ranked, key=lambda r: r[:2])][:given.count]


_TAGS = [f"t{n}" for n in range(14)]
_POSTS = st.lists(st.tuples(st.integers(0, 4), st.lists(st.sampled_from(_TAGS), max_size=12, unique=True),
                            st.lists(st.sampled_from(["x", "y", "X"]), max_size=2, unique=True),
                            st.lists(st.sampled_from(["s", "S!"]), max_size=1),
                            st.none() | st.lists(st.sampled_from(["k1", "K1", "k2"]), max_size=2, unique=True),
                            st.integers(2019, 2020)),
                  min_size=1, max_size=25)
_SETTINGS = st.builds(
    RelatedSettings,
    indices=st.lists(st.tuples(st.sampled_from(["series", "tags", "categories", "date", "keywords", "nothing"]),
                               st.integers(0, 120)), max_size=5, unique_by=lambda i: i[0]).map(tuple),
    threshold=st.integers(0, 100), include_newer=st.booleans(), count=st.integers(0, 7), to_lower=st.booleans())


@settings(max_examples=300, deadline=None)
@given(_POSTS, _SETTINGS)
def test_ranking_is_hugos(specs: list[tuple], given_settings: RelatedSettings) -> None:
    posts = tuple(sorted((post(n, day, tags, cats, series, keywords, year)
                          for n, (day, tags, cats, series, keywords, year) in enumerate(specs)), key=sort_key))
    index = related_index(posts, given_settings)
    for doc in posts:
        assert [d.source for d in index.of(doc)] == [d.source for d in hugo_related(doc, posts, given_settings)]


def test_series_tags_and_categories_weigh_as_configured() -> None:
    posts = tuple(sorted([
        post(1, 5, ["go"], ["code"], ["saga"]),
        post(2, 4, ["go"], ["code"], ["saga"]),  # shares the series, a tag and a category: first
        post(3, 3, ["go"], []),  # a tag alone (80): shown
        post(4, 2, [], ["code"]),  # a category alone (60 < 80): not shown
        post(5, 1, ["go"], ["code"]),  # a tag and a category
        post(6, 6, ["rust"], []),  # nothing shared
    ], key=sort_key))
    index = related_index(posts, RelatedSettings())
    first = next(d for d in posts if d.source.endswith("p1.md"))
    assert [d.title for d in index.of(first)] == ["Post 2", "Post 5", "Post 3"]
    assert [d.title for d in related_index(posts, RelatedSettings(count=1)).of(first)] == ["Post 2"]
    assert related_index(posts, RelatedSettings(count=0)).of(first) == ()


def test_newer_posts_left_out_as_hugo_does_by_default() -> None:
    posts = tuple(sorted([post(1, 1, ["go"]), post(2, 2, ["go"]), post(3, 3, ["go"]), post(4, 2, ["go"])],
                         key=sort_key))
    middle = next(d for d in posts if d.source.endswith("p2.md"))
    older_only = related_index(posts, RelatedSettings.hugo_default())
    assert [d.title for d in older_only.of(middle)] == ["Post 4", "Post 1"]  # the same date counts as not newer
    assert [d.title for d in related_index(posts, RelatedSettings()).of(middle)] == ["Post 3", "Post 4", "Post 1"]


def test_go_date_layouts() -> None:
    assert go_layout("2006") == "%Y"
    assert go_layout("200601") == "%Y%m"
    assert go_layout("2006-01-02") == "%Y-%m-%d"
    assert go_layout("January 2006") == "%B %Y"


def _site(tmp_path: Path, config: str, posts: dict[str, str]) -> Path:
    (tmp_path / "content" / "posts").mkdir(parents=True)
    name = "hugo.toml" if config.startswith("#toml") else "site.yaml"
    (tmp_path / name).write_text(config)
    for stem, front in posts.items():
        (tmp_path / "content" / "posts" / f"{stem}.md").write_text(f"---\n{front}\n---\nText of {stem}.\n")
    return tmp_path


def _related_block(page: Path) -> list[str]:
    html = page.read_text()
    block = re.search(r'<section class="related box".*?</section>', html, re.S)
    return re.findall(r'href="([^"]+)"', block.group(0)) if block else []


POSTS = {
    "a": "title: A\ndate: 2020-01-01\ntags: [go, web]\nseries: [Saga]",
    "b": "title: B\ndate: 2020-01-02\ntags: [go]\nseries: [Saga]",
    "c": "title: C\ndate: 2020-01-03\ntags: [web]",
    "d": "title: D\ndate: 2020-01-04\ntags: [rust]",
    "e": "title: E\ndate: 2020-01-05\ntags: [go, web]\ndraft: true",
}


def test_the_theme_shows_related_posts_under_a_post(tmp_path: Path) -> None:
    site = _site(tmp_path, "title: T\nbase_url: https://example.org/\n", POSTS)
    result = CliRunner().invoke(main, ["build", "-s", str(site), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert _related_block(out / "2020/01/01/a/index.html") == ["/2020/01/02/b/", "/2020/01/03/c/"]
    assert _related_block(out / "2020/01/04/d/index.html") == []
    assert 'class="related' not in (out / "2020/01/04/d/index.html").read_text()  # no empty block
    assert "/e/" not in (out / "2020/01/01/a/index.html").read_text()  # a draft is never related


def test_related_settings_in_site_yaml(tmp_path: Path) -> None:
    site = _site(tmp_path, "title: T\nbase_url: https://example.org/\nrelated:\n  count: 1\n  include_newer: false\n",
                 POSTS)
    assert CliRunner().invoke(main, ["build", "-s", str(site), "-o", str(tmp_path / "out")]).exit_code == 0
    assert _related_block(tmp_path / "out/2020/01/03/c/index.html") == ["/2020/01/01/a/"]
    assert _related_block(tmp_path / "out/2020/01/01/a/index.html") == []  # nothing older
    (site / "site.yaml").write_text("title: T\nbase_url: https://example.org/\nrelated: false\n")
    assert CliRunner().invoke(main, ["build", "-s", str(site), "-o", str(tmp_path / "out")]).exit_code == 0
    assert "related" not in (tmp_path / "out/2020/01/01/a/index.html").read_text()


@pytest.mark.parametrize("setting, message", [
    ("related: [tags]", "related must be a mapping"),
    ("related: {threshold: 120}", "related threshold must be between 0 and 100, not 120"),
    ("related: {count: many}", "related.count must be a whole number"),
    ("related: {indices: {tags: -5}}", "related index `tags` has a negative weight"),
    ("related: {indices: [tags]}", "related.indices must map an index name to its weight"),
    ("related: {include_newer: perhaps}", "related.include_newer must be true or false"),
    ("related: {limit: 3}", "related: unknown setting `limit`"),
])
def test_bad_related_settings_are_errors_naming_site_yaml(tmp_path: Path, setting: str, message: str) -> None:
    site = _site(tmp_path, f"title: T\nbase_url: https://example.org/\n{setting}\n", POSTS)
    result = CliRunner().invoke(main, ["build", "-s", str(site), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "site.yaml" in result.output and message in result.output, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_hugo_related_config(tmp_path: Path) -> None:
    config = ("#toml\nbaseURL = 'https://example.org/'\ntitle = 'H'\n[related]\nincludeNewer = true\nthreshold = 10\n"
              "toLower = true\n[[related.indices]]\nname = 'tags'\nweight = 100\n[[related.indices]]\n"
              "name = 'keywords'\nweight = 50\n")
    posts = {"a": "title: A\ndate: 2020-01-01\ntags: [go]\nkeywords: [Alpha]",
             "b": "title: B\ndate: 2020-01-02\nkeywords: [alpha]",
             "c": "title: C\ndate: 2020-01-03\ntags: [go]"}
    site = _site(tmp_path, config, posts)
    result = CliRunner().invoke(main, ["build", "-s", str(site), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert _related_block(tmp_path / "out/posts/a/index.html") == ["/posts/c/", "/posts/b/"]


def test_bundled_seed_post_links_to_the_series(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", "-s", str(REPO), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    seed = tmp_path / "out/2014/08/06/the-live-deployment-stories-from-bitopia/index.html"
    links = _related_block(seed)
    assert "/2014/09/14/the-cache-review-stories-from-bitopia/" in links
    assert "/2014/10/21/the-pager-stories-from-bitopia/" in links
