"""Markdown in a Hugo site renders as Hugo's Goldmark renders it. Each expected value below is what
Hugo 0.168 printed for the same Markdown (a page of `{{ .Content }}`), not what we think it does."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner

from bitopia_site import markup
from bitopia_site.cli import main

# Markdown heading -> the id Hugo gave it (None: Hugo wrote the heading with no id).
HEADING_IDS = {
    "## Don't Have To, by X": "dont-have-to-by-x",
    "## [Don't Have To, by X](http://x)": "don",  # a link's text: its first child, cut at a curly quote
    '## [a "b" c](/x) d': "a--d",
    '## *a "b" c* d': "a--d-1",
    "## [x *a* b'c d](/x) e": "x--e",  # ... and cut where another element starts
    "## [x `a` b c](/x) e": "x--e-1",
    "## [*a'b c* d](/x) e": "a-e",
    "## **a -- b** c": "a--c",
    "## **a &amp; b** c": "a--b-c",
    '## A "cash machine"': "a-cash-machine",
    '## `a "b"` c': "a-b-c",
    '## **"a"** b': "-b",
    "## a ![alt](x.png) b": "a-alt-b",
    "## !!!": "heading",  # no letter nor digit
    '## ["a" b](x)': "heading-1",
    "## a[^1]\n\n[^1]: x": "a",
    "## [Age—and Don't](x)": "ageand-don",  # a dash or quote typed as such is text
    "## _It’s either A_ by B": "its-either-a-by-b",
    "## A -- B": "a--b",
    "## &nbsp;": "heading-2",  # a no-break space is text
    "#### ![](x.png)": None,  # an image with no alt text is none
    "#### <span>[1. Y](u) </span>": "1-y",  # raw HTML gives nothing, spaces at the end are dropped
    "## <span>": None,
    "#### [Python](http://x.org)&nbsp; &nbsp;": "python",
    "####": None,  # an empty heading
}


@pytest.mark.parametrize("markdown, ident", HEADING_IDS.items())
def test_heading_ids_are_goldmarks(markdown: str, ident: str | None) -> None:
    # every case after its predecessors, so that duplicates are numbered as in one page
    cases = list(HEADING_IDS)
    text = "\n\n".join(cases[:cases.index(markdown) + 1])
    body = markup.render(text, goldmark=True, raw_html=False).html
    last = body.split("<h")[-1]
    opening = last.split(">", 1)[0][1:]  # after the heading's level
    assert opening == "" if ident is None else opening == f' id="{ident}"', body


def test_a_hugo_sites_headings_take_goldmarks_ids(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content" / "post").mkdir(parents=True)
    (site / "hugo.toml").write_text('baseURL = "https://example.org/"\ntitle = "T"\n')
    (site / "content" / "post" / "h.md").write_text(
        "---\ntitle: H\n---\n## [Flann O'Brien, fiction](https://example.org/b)\n\n####\n\n## !!!\n")
    result = CliRunner().invoke(main, ["build", "-s", str(site), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / "post" / "h" / "index.html").read_text()
    assert '<h2 id="flann-o">' in page and '<h2 id="heading">' in page and "<h4></h4>" in page


# Markdown paragraph -> its HTML as Hugo printed it (entities written as the characters they stand for).
TYPOGRAPHY = {
    "He said \"Much safer.\"": "<p>He said “Much safer.”</p>",
    "the end!\"": "<p>the end!&quot;</p>",  # a closing quote with none open stays straight
    "The \"ideal\"ness of": "<p>The “ideal&quot;ness of</p>",  # between two letters: neither opens nor closes
    "who needs 'em? and Hold 'Em. and 'twas": "<p>who needs ’em? and Hold ‘Em. and ’twas</p>",
    "in '66, 1866 and '90s and '91 paper": "<p>in ‘66, 1866 and ’90s and ‘91 paper</p>",
    "the so-called 'extended' Euclidean": "<p>the so-called ’extended’ Euclidean</p>",
    "e.g. 'a, and ''a). and '(1 2) into '((1": "<p>e.g. ‘a, and ‘‘a). and ‘(1 2) into ‘((1</p>",
    "the sum of all $u$'s unmixed": "<p>the sum of all $u$’s unmixed</p>",
    "E'$ and c''$ x": "<p>E’$ and c’’$ x</p>",
    "x'y'": "<p>x’y'</p>",  # at the end of the paragraph, with none open: straight
    'id="" align="alignnone" width="74"': "<p>id=&quot;&quot; align=“alignnone” width=“74”</p>",
    "a -- b --- c ... d.... e -x- f--g": "<p>a – b — c … d…. e -x- f–g</p>",
    "\"a 'b' c\"": "<p>“a ‘b’ c”</p>",
    "*a*'s and `c`'s and `'c'` and [l](x)'s and \"*a*\"":
        "<p><em>a</em>’s and <code>c</code>’s and <code>'c'</code> and <a href=\"x\">l</a>’s and “<em>a</em>”</p>",
    "We're 'quoted' here's I've you'll they're I'd": "<p>We’re ‘quoted’ here’s I’ve you’ll they’re I’d</p>",
    "\"a\n\nb\"": "<p>“a</p>\n<p>b”</p>",  # a quote stays open from one paragraph to the next
    "x << y >> z": "<p>x « y » z</p>",
    "![Picasso's \"Dog,\" here](x.png) and \"q": '<p><img src="x.png" alt="Picasso’s “Dog,” here" /> and “q</p>',
    # what the Markdown writes as an entity the typographer never sees
    '答：2&lt;&lt;3. and &gt;&gt;&gt; x and &quot;q&quot; and "r" &amp; `a &lt; b`':
        '<p>答：2&lt;&lt;3. and &gt;&gt;&gt; x and &quot;q&quot; and “r” &amp; <code>a &amp;lt; b</code></p>',
    "    &lt;code&gt; \"x\"": "<pre><code>&amp;lt;code&amp;gt; &quot;x&quot;\n</code></pre>",
    "![a &lt;b&gt;](x.png)": '<p><img src="x.png" alt="a &lt;b&gt;" /></p>',
    "<span>'Platform Connected!!!'</span> and 'a'<b>":  # Hugo's default: raw HTML omitted
        "<p><!-- raw HTML omitted -->‘Platform Connected!!!’<!-- raw HTML omitted --> and ‘a’<!-- raw HTML omitted --></p>",
}


@pytest.mark.parametrize("markdown, expected", TYPOGRAPHY.items())
def test_typography_is_goldmarks(markdown: str, expected: str) -> None:
    assert markup.to_html(markdown, raw_html=False, goldmark=True).strip() == expected


def test_code_keeps_its_quotes_and_a_site_yaml_site_keeps_cmarks_typography() -> None:
    assert markup.to_html("```\nit's \"x\" -- y\n```", goldmark=True) == '<pre><code>it\'s &quot;x&quot; -- y\n</code></pre>\n'
    assert markup.to_html("the end!\"") == "<p>the end!”</p>\n"


# Markdown with bare addresses -> its HTML as Hugo printed it: Goldmark links one only at a line's
# start, after a space, `*`, `_`, `~`, `(` or an inline element.
AUTOLINKS = {
    "访问：http://yourappname.appspot.com/ x": "<p>访问：http://yourappname.appspot.com/ x</p>",
    "[embed]https://www.youtube.com/embed/29atSZKbmS4[/embed]":
        "<p>[embed]https://www.youtube.com/embed/29atSZKbmS4[/embed]</p>",
    "他们michael@livecoding.tv。 and mail a@b.org here":
        '<p>他们michael@livecoding.tv。 and mail <a href="mailto:a@b.org">a@b.org</a> here</p>',
    "x http://a.com y (http://b.com) *http://c.com* www.d.com\nhttp://e.com":
        '<p>x <a href="http://a.com">http://a.com</a> y (<a href="http://b.com">http://b.com</a>) '
        '<em><a href="http://c.com">http://c.com</a></em> <a href="https://www.d.com">www.d.com</a>\n'
        '<a href="http://e.com">http://e.com</a></p>',
    "see <http://f.com> and [http://g.com](http://g.com) and x<http://h.com>":
        '<p>see <a href="http://f.com">http://f.com</a> and <a href="http://g.com">http://g.com</a> and '
        'x<a href="http://h.com">http://h.com</a></p>',
    "x http://localhost:8080/ y http://127.0.0.1:80/ z http://a.com:80/p w https://b.io":
        '<p>x http://localhost:8080/ y http://127.0.0.1:80/ z <a href="http://a.com:80/p">http://a.com:80/p</a> '
        'w <a href="https://b.io">https://b.io</a></p>',
    "PPT：http://o.com/files/A%20B.ppt": "<p>PPT：http://o.com/files/A%20B.ppt</p>",
    "Print|http://o.com/p and [it](http://o.com/p)":  # the same address linked elsewhere
        '<p>Print|http://o.com/p and <a href="http://o.com/p">it</a></p>',
    "`code`http://i.com and **b**http://j.com":
        '<p><code>code</code><a href="http://i.com">http://i.com</a> and '
        '<strong>b</strong><a href="http://j.com">http://j.com</a></p>',
    # a space that is not ASCII ends the address (cmark-gfm ran on to the next ASCII space)
    "See (http://x.org/a/b/)\u00a0at home.": '<p>See (<a href="http://x.org/a/b/">http://x.org/a/b/</a>)\u00a0at home.</p>',
    "And http://x.org/c\u00a0d, www.y.org/p.\u2003q and http://z.org/ok.":
        '<p>And <a href="http://x.org/c">http://x.org/c</a>\u00a0d, <a href="https://www.y.org/p">www.y.org/p</a>.\u2003q '
        'and <a href="http://z.org/ok">http://z.org/ok</a>.</p>',
}


@pytest.mark.parametrize("markdown, expected", AUTOLINKS.items())
def test_bare_addresses_are_linked_as_goldmark_links_them(markdown: str, expected: str) -> None:
    assert markup.to_html(markdown, goldmark=True).strip() == expected


def test_a_table_cells_alignment_is_a_style_as_goldmark_writes_it() -> None:
    body = markup.to_html("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n", goldmark=True)
    assert '<th style="text-align: left">a</th>' in body and '<td style="text-align: right">3</td>' in body
    assert "align=" not in body
    assert '<th align="center">b</th>' in markup.to_html("| a | b |\n|:--|:-:|\n| 1 | 2 |\n")  # not a Hugo site


def test_raw_html_cut_by_blank_lines_keeps_goldmarks_tags_and_cannot_break_the_page() -> None:
    """A raw `<blockquote>` ended inside a later paragraph, a `<div>` started in one: as Hugo 0.168
    wrote them (the paragraph left for the browser to close, the stray `</p>` kept), except that an
    element left open is closed at the end and a stray end tag of another kind is dropped."""
    markdown = ("<blockquote>Reflect on your blessings, not\n\non your past.\n\n— Charles</blockquote>\n\n"
                "After.\n\n<div>x\n\n<p>y <div>z</div></p>\n\nEnd.</p>\n\nLast</div></div></section>\n")
    assert markup.to_html(markdown, goldmark=True) == (
        "<blockquote>Reflect on your blessings, not\n<p>on your past.</p>\n<p>— Charles</blockquote></p>\n"
        "<p>After.</p>\n<div>x\n<p>y <div>z</div></p>\n<p>End.</p></p>\n<p>Last</div></p>\n")


_PIECES = ["word", " ", "\n", "\n\n", "'", '"', "-", "--", ".", "...", "<", ">", "&amp;", "&quot;", "&lt;", "`",
           "*", "_", "[a](http://x.org/a'b)", "![alt](i.png)", "<span>", "</span>", "# ", "> ", "- ", "http://x.org",
           "```\n", "&#39;", "’", "“", "1"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_a_body_whose_markdown_holds_nothing_to_typeset_is_given_back_as_the_full_check_gives_it(pieces: list[str]) -> None:
    """The typographer's shortcut (no quote, dash, ellipsis, guillemet or entity in the Markdown:
    nothing to do) agrees with its full check of the HTML, on any Markdown."""
    from bitopia_site import cmark, goldmark_typographer
    text = goldmark_typographer.hold_entities("".join(pieces))
    body = cmark.to_html(text, markup.OPTIONS & ~markup.Options.CMARK_OPT_SMART, markup.EXTENSIONS)
    assert goldmark_typographer.apply(body, text) == goldmark_typographer.apply(body)


def test_the_text_of_a_raw_html_block_is_not_typeset() -> None:
    """Goldmark's typographer never sees a raw HTML block (Hugo 0.168's output, its entities written
    as the characters they stand for); inline raw HTML in a paragraph is around Markdown text."""
    markdown = ("<blockquote>The value of another's experience \"x\" -- y</blockquote>\n\nMy \"own\" text -- here's.\n\n"
                "<div>\n<p>it's &quot;q&quot;</p>\n</div>\n\n> <p>in a \"quote\"</p>\n\n- item\n\n  <span>x \"y\"</span>\n")
    assert markup.to_html(markdown, goldmark=True) == (
        "<blockquote>The value of another's experience \"x\" -- y</blockquote>\n<p>My “own” text – here’s.</p>\n"
        "<div>\n<p>it's &quot;q&quot;</p>\n</div>\n<blockquote>\n<p>in a \"quote\"</p>\n</blockquote>\n"
        "<ul>\n<li>\n<p>item</p>\n<p><span>x “y”</span></p>\n</li>\n</ul>\n")
