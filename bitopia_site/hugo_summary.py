"""A page's summary as Hugo makes it when no `<!--more-->` or front-matter summary gives one: the
content's HTML up to the end of the paragraph in which the count of words reaches `summaryLength`."""

from __future__ import annotations

import re

# Words Hugo does not count because they are probably HTML: a bare tag (`<em>`, `</a>`, `<a`), the
# start of an attribute (`href="x">link`) or a lone `>`; each match is one such word.
_NOT_A_WORD = re.compile(r"""(?<!\S)(?:</?[A-Za-z]+>?(?!\S)|[A-Za-z]+=["']|>(?!\S))""")
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
        text = html[start:close - 1] if close > start else ""
        count += len(text.split()) - len(_NOT_A_WORD.findall(text))
        if count >= words:
            end = close + len(_CLOSE)
            return html[:end].strip(), end < len(html)
        start = close + len(_CLOSE) - 1  # as Hugo: the next paragraph's text starts at the `>`
    return html, False
