"""A heading's id as Hugo (Goldmark) makes it, from the heading's HTML as cmark-gfm renders it
without smart punctuation (so that a quote or dash the typographer makes is told from one typed).

Hugo takes the id's text from the heading's inline nodes, and not all of their text: what the
typographer makes (curly quotes, dashes, ellipses) gives nothing; a link's, an emphasis' or a code
span's text is only that of its first child, cut where the typographer made something
(`## [Don't panic](x)` -> `don`); an image gives its alt text so cut; raw HTML tags and footnote
marks give nothing; spaces (no-break ones too) at its end are dropped. A heading whose text is nothing has no id (an
empty one, an image with no alt text, raw HTML only), one whose text gives no letter nor digit
(`!!!`, a no-break space) is `heading`. Checked against Hugo 0.168's own output.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# What cmark-gfm's inline nodes render as; any other tag in a heading is raw HTML.
CONTAINERS = frozenset({"a", "em", "strong", "del", "code"})
TYPOGRAPHER = re.compile(r"""['"]|-{2,3}|\.\.\.|<<|>>""")  # what Goldmark's typographer replaces
EMPTY_ID = "heading"
MADE = "’"  # what the typographer made: text, though no letter of the id
_NOT_KEPT_ASCII = re.compile(r"[^A-Za-z0-9_ -]")  # what anchorize drops from ASCII text


def _upto_typographer(text: str) -> tuple[str, bool]:
    """The text before the typographer's first replacement, and whether there was one."""
    found = TYPOGRAPHER.search(text)
    return (text, False) if found is None else (text[:found.start()], True)


class _HeadingText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.depth = 0  # inside how many of cmark's inline containers
        self.collecting = False  # reading a container's first child
        self.collected = False
        self.footnote = 0  # inside a footnote mark (a <sup>) and how deep
        self.code = False  # inside a code span: its text is as typed

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.footnote or tag == "sup" and ("class", "footnote-ref") in attrs:
            self.footnote += tag == "sup"
            return
        if tag == "img":
            if self.depth == 0:
                self.parts.append(_upto_typographer(dict(attrs).get("alt") or "")[0])
            elif self.collecting:
                self._stop()
            return
        if tag not in CONTAINERS:
            if self.depth and self.collecting and self.collected:
                self._stop()
            return
        if self.depth == 0:
            self.collecting, self.collected = True, False
        elif self.collecting and self.collected:
            self._stop()
        self.depth += 1
        self.code = tag == "code"

    def handle_endtag(self, tag: str) -> None:
        if self.footnote:
            self.footnote -= tag == "sup"
            return
        if tag not in CONTAINERS or self.depth == 0:
            return
        self.depth -= 1
        self.code = False
        self._stop()

    def handle_data(self, data: str) -> None:
        if self.footnote:
            return
        if self.depth == 0:
            self.parts.append(TYPOGRAPHER.sub(MADE, data))
        elif self.collecting:
            text, cut = (data, False) if self.code else _upto_typographer(data)
            self.parts.append(text + MADE if cut else text)
            self.collected = True
            if cut:
                self._stop()

    def _stop(self) -> None:
        self.collecting = False


def heading_text(inner_html: str) -> str:
    """The text Hugo makes a heading's id of, from the heading's inner HTML (without smart punctuation)."""
    if "<" not in inner_html and "&" not in inner_html:  # text alone, as the parser would read it
        return TYPOGRAPHER.sub(MADE, inner_html)
    parser = _HeadingText()
    parser.feed(inner_html)
    parser.close()
    return "".join(parser.parts)


def anchorize(text: str) -> str:
    """Hugo's default (`github`) id style: each space or dash a dash, letters, digits and `_` kept in
    lower case, the rest dropped (`Use CI/CD` -> `use-cicd`)."""
    if text.isascii():  # the same, a string at a time
        return _NOT_KEPT_ASCII.sub("", text).lower().replace(" ", "-")
    return "".join("-" if char in " -" else char.lower() for char in text if char in " -_" or char.isalnum())


def heading_id(inner_html: str) -> str | None:
    """The id Hugo gives a heading of this inner HTML (without smart punctuation): None when its text is nothing."""
    text = heading_text(inner_html)
    return (anchorize(text.rstrip()) or EMPTY_ID) if text.strip(" \t\n") else None
