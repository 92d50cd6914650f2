"""Feeds and the sitemap are XML whatever a post holds: HTML goes in as escaped text, the characters
XML 1.0 forbids are dropped, and a reader unescaping a `<description>` gets the post's HTML back."""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from bitopia_site.body import Body
from bitopia_site.build import BuildOptions, run_build
from bitopia_site.model import Document
from bitopia_site.xmltext import xml_chars, xml_text
from conftest import FIXED_NOW

SITE_YAML = "title: Feeds & <Co>\nbase_url: https://example.org/\nauthor: Ada\n"
FEED_LIMIT = 20


def build_site(root: Path, posts: dict[str, str], full_content: bool) -> tuple[Path, list[Document]]:
    """Build a tiny site of `posts` (file name -> source) into root/out: the output and its posts."""
    (root / "content" / "posts").mkdir(parents=True)
    (root / "site.yaml").write_text(SITE_YAML + f"feed_full_content: {str(full_content).lower()}\n")
    for name, text in posts.items():
        (root / "content" / "posts" / name).write_text(text, encoding="utf-8")
    built = run_build(root, root / "out", BuildOptions(now=FIXED_NOW, jobs=1, cache=False))
    assert built.site is not None
    return root / "out", sorted(built.site.documents.values(), key=lambda d: d.url)


def xml_outputs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.xml"))}


def parse_all(out: Path) -> dict[str, ET.Element]:
    """Every XML file of the build, parsed by expat (strict); every feed also read by feedparser
    without complaint. Path -> root element."""
    roots = {}
    for path, data in xml_outputs(out).items():
        roots[path] = ET.fromstring(data)  # raises on anything ill-formed
        if path.endswith("index.xml"):
            parsed = feedparser.parse(data)
            assert not parsed.bozo, f"{path}: {parsed.get('bozo_exception')}"
            assert parsed.version == "rss20", path
    assert "sitemap.xml" in roots and "index.xml" in roots
    return roots


def items(feed: ET.Element) -> dict[str, ET.Element]:
    """A feed's items by link."""
    return {item.findtext("link"): item for item in feed.iter("item")}


def post(title: str, body: str, **front: object) -> str:
    """A post with JSON front matter (which, unlike YAML, can carry any character)."""
    return json.dumps({"title": title, "date": "2020-01-01", **front}) + "\n" + body


# -- the findings ------------------------------------------------------------------------------------

BR_POST = post("Breaks", "line one<br>\nline two\n\n<!--more-->\n\nthe rest\n", tags=["x"], categories=["c"])


def test_br_before_more_leaves_every_feed_well_formed(tmp_path: Path) -> None:
    out, _ = build_site(tmp_path, {"br.md": BR_POST}, full_content=False)
    roots = parse_all(out)
    assert {"index.xml", "posts/index.xml", "tags/x/index.xml", "categories/c/index.xml"} <= roots.keys()
    for path in ("index.xml", "posts/index.xml", "tags/x/index.xml", "categories/c/index.xml"):
        (item,) = roots[path].iter("item")
        assert item.findtext("description") == "<p>line one<br>\nline two</p>"
    readers = feedparser.parse(xml_outputs(out)["index.xml"], sanitize_html=False, resolve_relative_uris=False)
    assert readers.entries[0].summary == "<p>line one<br>\nline two</p>"


def test_script_and_item_in_full_content_stay_text(tmp_path: Path) -> None:
    body = ("Hello <script>alert(1)</script>\n\n<item><title>forged</title></item>\n\n"
            "<description>x</description> ]]> & &amp; &nbsp; <![CDATA[ y ]]>\n")
    out, (doc,) = build_site(tmp_path, {"evil.md": post("<item>Evil</item>", body)}, full_content=True)
    roots = parse_all(out)
    feed = roots["index.xml"]
    assert len(list(feed.iter("item"))) == 1 and not list(feed.iter("script"))
    (item,) = feed.iter("item")
    assert item.findtext("title") == "<item>Evil</item>"
    assert item.findtext("description") == str(doc.html)
    assert "<script>alert(1)</script>" in item.findtext("description")
    data = xml_outputs(out)["index.xml"]
    assert b"<script>" not in data and b"&lt;script&gt;alert(1)&lt;/script&gt;" in data
    readers = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    assert readers.entries[0].summary == str(doc.html).strip()


def test_titles_authors_and_terms_are_escaped_and_stripped_of_forbidden_characters(tmp_path: Path) -> None:
    source = post("A\x0b & <b>bold</b> ]]>\x1f\ufffe", "text\x0b with\x1f controls\n", author="Ada <ada@x> & co\x01",
                  tags=["c]]>d & <e>"], categories=["Code & Tech"])
    out, _ = build_site(tmp_path, {"odd.md": source}, full_content=True)
    roots = parse_all(out)
    (item,) = roots["index.xml"].iter("item")
    assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == "Ada <ada@x> & co"
    assert [c.text for c in item.iter("category")] == ["Code & Tech"]
    assert "\x0b" not in item.findtext("title") and "<b>bold</b> ]]>" in item.findtext("title")
    assert item.findtext("description") == "<p>text with controls</p>\n"
    assert roots["tags/index.xml"].find("channel/item/title").text == "c]]>d & <e>"


def test_xml_text_escapes_markup_and_bodies_too() -> None:
    for value in ("<br>", Markup("<br>"), Body("<br>")):
        assert xml_text(value) == "&lt;br&gt;"
    assert xml_text('a & "b" \x0b\x1f\x00\ud800\ufffe\uffff c\t\n\r\U0001f642') == "a &amp; &#34;b&#34;  c\t\n\r\U0001f642"
    assert xml_chars("plain") == "plain"


# -- any post: a property test --------------------------------------------------------------------------

FRAGMENTS = st.sampled_from([
    "<br>", "<br/>", "<p>", "</p>", "<div>", "</div>", "<b>", "</i>", "<script>alert(1)</script>", "<script>",
    "<item>", "</item>", "<title>", "</description>", "<channel>", "]]>", "<![CDATA[", "]]", "&", "&amp;",
    "&nbsp;", "&#x1F642;", "&#0;", "&#xb;", "&bogus;", "&lt;", "<", ">", "\"", "'", "<!--more-->", "<!--", "-->",
    "<!-- c -->", "<?xml version='1.0'?>", "<a href=\"/x?a=1&b=2\">l</a>", "<img src=x onerror=alert(1)>",
    "*em*", "**strong**", "`code <b>`", "```\n<item>&\n```\n", "# Heading <x>", "- item\n", "> quote\n",
    "[link](/a/?b&c)", "| a | b |\n|---|---|\n| <br> | & |\n", "[^1]\n\n[^1]: note <br>\n", "~~s~~",
    "\x0b", "\x1f", "\x0c", "\x01", "\x7f", "\x85", "\ufffe", "\uffff", "\u2028", "\r", "\r\n", "\t",
    "\n", "\n\n", " ", "é", "🙂",
])
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00{}"), max_size=8)
BODIES = st.lists(st.one_of(FRAGMENTS, TEXT), max_size=14).map("".join)
TITLES = st.one_of(TEXT, st.lists(FRAGMENTS, max_size=3).map("".join)).map("T".__add__)  # a blank one is an error
TAGS = st.lists(st.sampled_from(["x", "A & B", "<i>", "c]]>d", "e\x0bf"]), max_size=2, unique=True)


def check_feeds_carry_the_posts(out: Path, docs: list[Document], full_content: bool) -> None:
    roots = parse_all(out)
    feed = items(roots["index.xml"])
    assert len(feed) == len(docs) <= FEED_LIMIT
    for doc in docs:
        item = feed[f"https://example.org{doc.url}"]
        assert item.findtext("title") == xml_chars(doc.title)
        html = xml_chars(str(doc.html if full_content else doc.summary))
        assert (item.findtext("description") or "") == html.replace("\r\n", "\n").replace("\r", "\n")
    locs = [loc.text for loc in roots["sitemap.xml"].iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert all(f"https://example.org{doc.url}" in locs for doc in docs)


@settings(max_examples=int(os.environ.get("BITOPIA_FEED_EXAMPLES", "30")), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(TITLES, BODIES, TAGS), min_size=1, max_size=3), st.booleans())
@example([("Breaks", "a<br>\nb\n\n<!--more-->\n\nc", ["x"])], False)
@example([("<item>", "<script>x</script><item>]]>&\x0b\x1f", ["c]]>d"])], True)
def test_every_feed_is_well_formed_for_any_post(posts: list[tuple[str, str, list[str]]], full_content: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        sources = {f"p{n}.md": post(title, body, date=f"2020-01-0{n + 1}", tags=tags, categories=tags[:1])
                   for n, (title, body, tags) in enumerate(posts)}
        out, docs = build_site(Path(folder), sources, full_content)
        check_feeds_carry_the_posts(out, docs, full_content)
