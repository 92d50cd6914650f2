"""Filters a theme uses to show a document's HTML for reading, each one pass over the HTML:
tables and code blocks a keyboard can scroll, and a link to itself on each heading."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

_BLOCK = re.compile(r'<table>|</table>|<pre class="highlight">|<pre>')
_SCROLLABLE = {
    "<table>": '<div class="table-scroll" role="region" aria-label="Table" tabindex="0"><table>',
    "</table>": "</table></div>",
    '<pre class="highlight">': '<pre class="highlight" tabindex="0">',
    "<pre>": '<pre tabindex="0">',
}
_HEADING = re.compile(r'<h([2-6]) id="([^"]*)">')


def scrollable(content: Any) -> Markup:
    """The HTML with each table in a box that scrolls sideways (a focusable region) and each code
    block focusable, so that a keyboard can scroll them too."""
    content = escape(content)  # text that is not HTML yet is escaped first, as printing it would
    if "<table>" not in content and "<pre" not in content:  # most posts: no pass over the HTML
        return content
    return Markup(_BLOCK.sub(lambda found: _SCROLLABLE[found.group(0)], content))


def heading_anchors(content: Any, toc: Iterable[tuple[int, str, str]], symbol: str = "#") -> Markup:
    """The HTML with a link to itself (`symbol`) at the start of each heading `toc` lists, as
    (level, id, text): the first heading of that level and id, as many times as `toc` lists it."""
    content = escape(content)  # text that is not HTML yet is escaped first, as printing it would
    wanted = Counter((str(level), ident) for level, ident, _ in toc)
    if not wanted:
        return content

    def anchor(found: re.Match[str]) -> str:
        key = (found.group(1), html.unescape(found.group(2)))
        if not wanted[key]:
            return found.group(0)
        wanted[key] -= 1
        return (f'{found.group(0)}<a class="anchor" href="#{escape(key[1])}" '
                f'title="Link to this section">{escape(symbol)}</a>')

    return Markup(_HEADING.sub(anchor, content))
