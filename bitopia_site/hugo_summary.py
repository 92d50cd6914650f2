"""A page's summary as Hugo makes it when no `<!--more-->` or front-matter summary gives one: the
content's HTML up to the end of the paragraph in which the count of words reaches `summaryLength`."""

from __future__ import annotations

import re

# Words Hugo does not count because they are probably HTML: a bare tag (`<em>`, `</a>`, `<a`) or
# the start of an attribute (`href="x">link`).
_HTML_TAG = re.compile(r"</?[A-Za-z]+>?\Z")
_HTML_ATTRIBUTE = re.compile(r"[A-Za-z]+=[\"']")
_CLOSE = "</p>"


def hugo_summary(html: str, words: int) -> tuple[str, bool]:
    """(summary HTML, whether it is shorter than the content), counted as Hugo counts: from the
    start of the content to each `</p>` in turn, words split at white space (the last character
    before the `</p>` ends a word and is not part of it), whole paragraphs kept."""
    html = html.strip()
    if words <= 0:
        return "", bool(html)
    count = 0
    start = 0
    while (close := html.find(_CLOSE, start)) != -1:
        text = html[start:close]
        word_start = 0
        for at, char in enumerate(text):
            if char.isspace() or at == len(text) - 1:
                count += _counts(text[word_start:at])
                word_start = at
                if count >= words:
                    end = close + len(_CLOSE)
                    return html[:end].strip(), end < len(html)
        start = close + len(_CLOSE) - 1  # as Hugo: the next paragraph's text starts at the `>`
    return html, False


def _counts(word: str) -> int:
    word = word.strip()
    if not word or word == ">" or _HTML_TAG.match(word) or _HTML_ATTRIBUTE.match(word):
        return 0
    return 1
