"""Property tests (hypothesis) over what reads untrusted text: the front-matter splitter, the URL
rules and the Markdown step. Every failure is a SiteError (or, for the URL rules, the UnsafeURL
that content turns into one); nothing else escapes, and no URL can leave the output folder."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from bitopia_site import content, frontmatter, markup, urls
from bitopia_site.body import Body
from bitopia_site.errors import SiteError
from bitopia_site.model import Source

# BITOPIA_FUZZ_EXAMPLES=3000 for a longer hunt (each test then takes about half a minute).
FUZZ = settings(max_examples=int(os.environ.get("BITOPIA_FUZZ_EXAMPLES", "150")), deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SETTINGS = content.ContentSettings("Europe/Helsinki", ("categories", "tags", "series"),
                                   (("page", "/:slug/"), ("post", "/:year/:month/:day/:slug/")), 70)
PATH = "content/posts/fuzz.md"
OUT = Path("/srv/site/output")

# Pieces users' old blogs are made of: the fuzzer combines them into front matter and bodies.
ODD = st.sampled_from([
    "", " ", "\t", "\r\n", "\r", "\n", "\ufeff", "\x00", "\x1b[31m", "é", "e\u0301", "🙂", "\u202e", "\u2028",
    "---", "+++", "...", "{", "}", "[", "]", ":", ": ", "- ", "#", "?", "&", "*", "!", "|", ">", "%", "@", "`",
    "'", '"', "\\", "/", "//", "..", "../", "./", "~", "C:", "http://", "javascript:", "<script>", "</p>",
    "<!--more-->", "<div>", "***", "[^1]", "[^1]: note", "```python", "```", "    code", "> ", "1. ", "|a|b|",
    "0001-01-01", "9999-12-31", "2014-08-06 17:37:19+00:00", "2014-13-01", "now", "~", "null", "true", "no",
    "&a [*a]", "!!binary aGk=", "!!python/object:os.system", "1e400", "-0", "0x1F", "\\u0000",
])
WORDS = st.one_of(ODD, st.text(max_size=12), st.text("abcxyz019 ._/-", max_size=20))
KEYS = st.sampled_from(["title", "date", "url", "slug", "tags", "categories", "series", "aliases", "draft",
                        "featured", "featuredpath", "featuredalt", "summary", "weight", "type", "lastmod",
                        "expirydate", "publishdate", "layout", "Title", "TAGS", "tag", "params", "unknown"])


@st.composite
def yaml_values(draw) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return "".join(draw(st.lists(WORDS, max_size=4)))
    if kind == 1:
        return json.dumps(draw(st.text(max_size=30)))
    if kind == 2:
        return "[" + ", ".join(json.dumps(w) for w in draw(st.lists(WORDS, max_size=5))) + "]"
    return "\n" + "".join(f"  - {draw(WORDS)}\n" for _ in range(draw(st.integers(0, 3))))


@st.composite
def documents(draw) -> str:
    """A whole source file: usually a plausible front matter with odd values, sometimes anything."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=300))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    fence = draw(st.sampled_from(["---", "---", "---", "+++", "{"]))
    pairs = draw(st.lists(st.tuples(KEYS, yaml_values()), max_size=8))
    if fence == "{":
        head = json.dumps({k: v for k, v in pairs}) + newline
    elif fence == "+++":
        head = "+++\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in pairs) + "+++\n"
    else:
        head = "---\n" + "".join(f"{k}: {v}\n" for k, v in pairs) + draw(st.sampled_from(["---\n", "...\n", ""]))
    body = "".join(draw(st.lists(st.one_of(WORDS, st.just("\n\n")), max_size=30)))
    text = draw(st.sampled_from(["", "\ufeff"])) + (head + body).replace("\n", newline)
    return text


def assert_site_error(err: SiteError, path: str = PATH) -> None:
    assert isinstance(err, SiteError)
    assert err.path == path and err.message.strip()
    assert err.line is None or err.line >= 1
    assert err.format().startswith(path + ":")


def assert_inside_output(url: str) -> None:
    """output_path(url) is a relative path without `..` that stays inside the output folder."""
    rel = urls.output_path(url)
    assert rel and not rel.startswith("/") and not os.path.isabs(rel)
    assert "\\" not in rel and "\x00" not in rel
    assert not {"..", "."} & set(rel.split("/")), rel
    assert "" not in rel.split("/"), rel
    joined = Path(os.path.normpath(OUT / rel))
    assert joined.is_relative_to(OUT) and joined != OUT
    resolved = (OUT / rel).resolve()
    assert resolved.is_relative_to(OUT.resolve())


# -- front matter -----------------------------------------------------------------------------------

@FUZZ
@given(documents())
@example("")
@example("---")
@example("---\r\ntitle: x\r\n---\r\n")
@example('{"a": ' + "[" * 5000 + "]" * 5000 + "}")
@example('{"title": "\\ud800"}\nbody')
@example("---\n" + "- " * 3000 + "x\n---\n")
@example("---\nx: &a [*a, *a]\ny: " + "[*a, " * 50 + "]" * 50 + "\n---\n")
@example("+++\ntitle = \n+++\n")
def test_frontmatter_split_returns_a_mapping_or_raises_site_error(text: str) -> None:
    try:
        meta, body, line = frontmatter.split(text, PATH)
    except SiteError as err:
        assert_site_error(err)
        return
    assert isinstance(meta, dict) and all(isinstance(k, str) for k in meta)
    assert isinstance(body, str) and "\r" not in body
    assert isinstance(line, int) and line >= 1


# -- URL rules ---------------------------------------------------------------------------------------

URLISH = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(ODD, st.text("aZ09._~%-", max_size=12)), max_size=8).map("/".join),
    st.lists(st.one_of(ODD, st.text(max_size=6)), max_size=8).map("".join),
)


@FUZZ
@given(URLISH)
@example("/?p=123")
@example("\\2014\\08\\x\\")
@example("/..")
@example("/a/../../b/")
@example("....//....//")
@example("/%2e%2e/%2e%2e/etc/")
@example("/\u2025/")
@example("C:/Windows/")
@example("//evil.example/x")
@example("/" + "a" * 300 + "/")
@example("/x.html/")
@example("/. /")
@example(" /./ ")
def test_any_url_normalize_accepts_stays_inside_the_output_folder(url: str) -> None:
    try:
        normal = urls.normalize_url(url)
    except urls.UnsafeURL as exc:
        assert str(exc).strip()
        return
    assert normal.startswith("/") and (normal.endswith("/") or urls.names_file(normal))
    assert "//" not in normal
    assert urls.normalize_url(normal) == normal
    assert_inside_output(normal)


@FUZZ
@given(st.one_of(st.text(max_size=40), st.lists(ODD, max_size=6).map("".join)))
@example("Code & Tech")
@example("..")
@example("/../")
@example("a" * 400)
@example("ǅ" * 200)
def test_any_term_with_a_slug_makes_a_safe_term_url(name: str) -> None:
    slug = urls.urlize(name)
    assert urls.urlize(slug) == slug
    assert "/" not in slug and not slug.startswith(("-", ".")) and not slug.endswith(("-", "."))
    if not slug:
        return
    try:
        url = urls.normalize_url(f"/tags/{slug}/")
    except urls.UnsafeURL:
        # only length can make a slug unusable, and content refuses such a term before the build writes
        assert len(slug.encode()) > urls.MAX_NAME_BYTES
        parsed = content.parse(Source(PATH, f"---\ntitle: T\ndate: 2020-01-01\ntags: [{json.dumps(name)}]\n---\n"),
                               SETTINGS)
        assert parsed.document is None and parsed.errors
        return
    assert url == f"/tags/{slug}/"
    assert_inside_output(url)


@FUZZ
@given(URLISH)
@example("img/../../etc/passwd")
@example("/")
@example("C:\\x.jpg")
def test_safe_file_path_stays_below_the_site(path: str) -> None:
    try:
        rel = urls.safe_file_path(path)
    except urls.UnsafeURL as exc:
        assert str(exc).strip()
        return
    assert rel and not rel.startswith("/") and not {"..", ".", ""} & set(rel.split("/"))
    assert (OUT / rel).resolve().is_relative_to(OUT.resolve())


@FUZZ
@given(st.text(max_size=40), st.text(max_size=40),
       st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
       st.sampled_from(["/:year/:month/:day/:slug/", "/:slug/", "/:section/:title/", "/:filename.html",
                        "/blog/:year/:slug", "/:title/:slug/:filename/"]))
def test_permalinks_from_any_slug_and_title_stay_inside(slug: str, title: str, date: datetime, pattern: str) -> None:
    try:
        url = urls.expand_permalink(pattern, date=date, slug=urls.urlize(slug) or "untitled", title=title,
                                    section="posts", filename=urls.slug_from_filename(slug) or "x")
    except urls.UnsafeURL:
        return
    assert_inside_output(url)
    if ":year" in pattern:
        assert f"/{date.year:04d}/" in url


# -- Markdown and whole documents ----------------------------------------------------------------

MARKDOWN = st.lists(st.one_of(ODD, st.text(max_size=20), st.sampled_from(
    ["\n\n", "# h\n", "## h\n", "<blockquote>\n\n", "</blockquote>", "<table><tr><td>", "</div></div>", "<p>",
     "![alt](../../x.png)", "[l](javascript:alert(1))", "<?php ?>", "<![CDATA[x]]>", "<!doctype html>", "&#0;",
     "&#x110000;", "&nbsp;", "\t- a\n\t\t- b\n"])), max_size=40).map("".join)


@FUZZ
@given(MARKDOWN, st.one_of(st.none(), MARKDOWN), st.integers(0, 200))
@example("> " * 2000 + "x", None, 70)
@example("<div>" * 3000, None, 70)
@example("* " * 1000 + "x", None, 70)
@example("[" * 2000 + "x" + "]" * 2000, None, 70)
def test_markdown_render_never_raises(text: str, summary: str | None, words: int) -> None:
    rendered = markup.render(text, words, summary)
    assert isinstance(rendered.html, str) and isinstance(rendered.summary, str)
    assert rendered.word_count >= 0 and rendered.reading_time >= 1
    for level, ident, _ in rendered.toc:
        assert 2 <= level <= 4 and ident and '"' not in ident


@FUZZ
@given(documents(), st.sampled_from([PATH, "content/pages/about.md", "content/posts/2014-08-06-x y é.md",
                                     "content/posts/_index.md", "content/posts/b/index.md", "content/x.md"]))
def test_content_parse_never_raises_and_every_url_stays_inside(text: str, path: str) -> None:
    parsed = content.parse(Source(path, text), SETTINGS)
    assert isinstance(parsed, content.Parsed)
    for problem in (*parsed.errors, *parsed.warnings):
        assert_site_error(problem, path)
    if parsed.document is None:
        assert parsed.errors
        return
    doc = parsed.document
    assert not parsed.errors
    for url in (doc.url, *doc.aliases):
        assert_inside_output(url)
    for _, names in doc.terms:
        for name in names:
            assert_inside_output(urls.normalize_url(f"/tags/{urls.urlize(name)}/"))
    if doc.featured is not None and doc.featured.file is not None:
        assert (OUT / doc.featured.file).resolve().is_relative_to(OUT)
    assert isinstance(doc.html, Body) and isinstance(str(doc.html), Markup) and isinstance(doc.title, str)
    assume(doc.date is not None)
    assert doc.date.tzinfo is not None


# --- the YAML fast path reads what the YAML library reads -------------------------------------------

_WORDS = st.sampled_from(["yes", "No", "on", "OFF", "true", "null", "~", "0", "007", "12", "+3", "-4", "1.5", "1_000",
                          "2014-08-06 17:37:19+00:00", "Hello world", "a: b", "a:b", "x #y", "it's", "say \"hi\"",
                          "", " ", "'q'", "\"d\"", "[a, b]", "[]", "{a: 1}", "*ref", "&a x", "!tag x", "|", ">",
                          "@x", "`x`", "%x", "=", "<<", "ünïcode", "tab\there", "line\u2028break", "nbsp\xa0x",
                          "trailing   ", "two  spaces", "-x", "- x", "?x", ":x", "x:", "'it''s'", "\"back\\\\slash\""])
_PLAIN_WORDS = st.sampled_from(["yes", "false", "null", "~", "0", "12", "+3", "2014-08-06 17:37:19+00:00", "Hello world",
                                "a:b", "it's", "'q'", "\"d\"", "ünïcode", "'it''s'", "x!", "50%", "a, b", "/p/x/"])
_WORDS = st.one_of(_PLAIN_WORDS, _PLAIN_WORDS, _PLAIN_WORDS, _WORDS)  # mostly simple: the fast path's own ground
_KEYS = st.one_of(st.sampled_from(["title", "tags", "draft", "url", "_x", "a-b"]),
                  st.sampled_from(["title", "on", "yes", "null", "2014", "\"q\"", "x y"]))


@st.composite
def _simple_front_matter(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        key, shape = draw(_KEYS), draw(st.sampled_from(["scalar", "items", "flow", "empty"]))
        if shape == "scalar":
            lines.append(f"{key}: {draw(_WORDS)}")
        elif shape == "flow":
            lines.append(f"{key}: [{', '.join(draw(st.lists(_WORDS, max_size=3)))}]")
        else:
            lines.append(f"{key}:")
            indent = draw(st.sampled_from(["", "  "]))
            lines += [f"{indent}- {draw(_WORDS)}" for _ in range(draw(st.integers(0 if shape == "empty" else 1, 3)))]
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


@FUZZ
@given(_simple_front_matter())
@example("author: alexchiri\ndate: 2014-08-06 17:37:19+00:00\ndraft: false\ntitle: The Live Deployment\n"
         "categories:\n- Writing\ntags:\n- bitopia\n- me\n")
def test_yaml_fast_path_matches_the_library(raw: str) -> None:
    fast = frontmatter.simple_yaml(raw)
    if fast is None:
        return
    import yaml
    assert fast == yaml.load(raw, Loader=frontmatter._Loader)  # noqa: S506 - the safe loader
