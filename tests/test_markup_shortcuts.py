"""The speed tricks of the Hugo-site Markdown path against the plain code they stand for: the
typographer's check that a body has nothing to typeset, Hugo's summary counted word by word, and a
heading id's text and anchor made a string at a time."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bitopia_site import goldmark_ids, goldmark_typographer, hugo_summary

# Pieces of cmark-gfm's HTML, mostly plain (so that many bodies have nothing to typeset), with
# every kind of thing the check must see: quotes, dashes, entities, held entities, code, images.
PLAIN = list("ab 1\n,;:!?()*é") + ["<em>", "</em>", "<p>", "</p>", '<a href="x">', "</a>", "<br>", "&amp;", "&lt;", "&gt;"]
RARE = ["'", '"', "-", "--", ".", "...", "&quot;", "&lt;&lt;", "&gt;&gt;", "&copy;", "&", "\uFDD0", "<code>",
        "</code>", "<pre>", "</pre>", "<CODE>", "</Code>", '<code class="x">', '<img src="a" alt="&quot;x&quot;">',
        '<img alt="a">', "<!-- a -->", "<!-- </code> -->", "<script>", "</style>", "<codex>", "<code-x>",
        "</code >", "<img title=\"'\" src=\"a\">"]
BODIES = st.lists(st.one_of(st.sampled_from(PLAIN), st.sampled_from(PLAIN), st.sampled_from(RARE)),
                  max_size=60).map("".join)


@settings(max_examples=3000, deadline=None)
@given(BODIES)
def test_a_body_said_to_have_nothing_to_typeset_is_given_back_by_the_walk(body: str) -> None:
    expected = goldmark_typographer._walk(body)
    assert goldmark_typographer.apply(body) == expected
    if goldmark_typographer._unchanged(body):
        assert expected == body


def test_the_check_lets_plain_bodies_through_and_stops_at_each_kind_of_change() -> None:
    plain = '<p>A <a href="x">link</a>, <code>--force</code> and &amp; a &lt; b.</p>\n<pre><code>"x"</code></pre>'
    assert goldmark_typographer._unchanged(plain)
    for changed in ("it's", '&quot;q&quot;', "a -- b", "wait...", "&lt;&lt;", "&copy;", "\uFDD0"):
        assert not goldmark_typographer._unchanged(f"<p>{changed}</p>")
    assert not goldmark_typographer._unchanged('<p><img src="x" alt="it\'s"></p>')
    assert not goldmark_typographer._unchanged("<p><code>a</pre> it's </code></p>")  # the code ends at </pre>


_TAG_WORD = re.compile(r"</?[A-Za-z]+>?\Z")
_ATTRIBUTE_WORD = re.compile(r"[A-Za-z]+=[\"']")


def _summary_by_characters(html: str, words: int) -> tuple[str, bool]:
    """Hugo's summary as Hugo's code walks it: a character at a time."""
    html = html.strip()
    if words <= 0:
        return "", bool(html)
    count, start = 0, 0
    while (close := html.find("</p>", start)) != -1:
        text, word_start = html[start:close], 0
        for at, char in enumerate(text):
            if char.isspace() or at == len(text) - 1:
                word = text[word_start:at].strip()
                if word and word != ">" and not _TAG_WORD.match(word) and not _ATTRIBUTE_WORD.match(word):
                    count += 1
                word_start = at
                if count >= words:
                    end = close + 4
                    return html[:end].strip(), end < len(html)
        start = close + 3
    return html, False


SUMMARY_PIECES = list("ab \n\t\xa0\x1c\u2028\x85é=\"'<>/") + ["<p>", "</p>", "<em>", "</em>", '<a href="x">', "</a>",
                                                          'a="', "<a", " > ", "x='"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(SUMMARY_PIECES), max_size=60).map("".join), st.integers(-1, 8))
def test_hugo_summary_counts_as_the_character_walk_does(html: str, words: int) -> None:
    assert hugo_summary.hugo_summary(html, words) == _summary_by_characters(html, words)


HEADING_PIECES = list("aZ9_ -–'\".!?/é\u00a0Σς") + ["--", "...", "<<", ">>", "<em>", "</em>", "<code>", "</code>",
                                                    "&amp;", "&quot;", "&", '<a href="x">', "</a>", "İ"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(HEADING_PIECES), max_size=20).map("".join))
def test_heading_text_and_anchor_as_the_parser_and_the_character_loop_make_them(inner: str) -> None:
    parser = goldmark_ids._HeadingText()
    parser.feed(inner)
    parser.close()
    assert goldmark_ids.heading_text(inner) == "".join(parser.parts)
    text = goldmark_ids.heading_text(inner)
    assert goldmark_ids.anchorize(text) == "".join(
        "-" if char in " -" else char.lower() for char in text if char in " -_" or char.isalnum())
