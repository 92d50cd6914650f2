"""Bare URLs and e-mail addresses made links as Goldmark's linkify makes them (Hugo), not cmark-gfm.

GFM makes a bare `http://…`, `www.…` or `a@b.c` a link only at the start of a line, after a space,
or after `*`, `_`, `~` or `(`; Goldmark keeps to that (and also links right after an inline element,
`` `code`http://x ``), cmark-gfm's autolink extension does not (`访问：http://x`,
`[embed]http://x[/embed]`, `name@example.org` after a letter). Here each link cmark-gfm made of bare
text where Goldmark would not is text again (as is one whose host ends in no top-level domain:
`http://localhost:8080/`), a link cmark-gfm ran on past a space that is not ASCII (a no-break
space) ends there, its trailing punctuation left out as GFM leaves it, and a `www.` link goes to
`https://`, as Goldmark's does. Checked against Hugo 0.168.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, unquote

# A link whose text is its own address, as cmark-gfm's autolink extension writes it.
_AUTOLINK = re.compile(r'<a href="([^"]*)">([^<]*)</a>')
_ALLOWED_BEFORE = set(" \t\n*_~(")
# Goldmark links an address only if its host ends in a top-level domain (not `localhost`, `127.0.0.1`).
_TRAILING = "?!.,:*_~"  # what GFM leaves out at the end of a bare address
_HREF_SAFE = "-_.+!*(),%#@?=;:/$~&'[]"  # what cmark-gfm writes as it is in an href
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")
_HOST = re.compile(r"(?:mailto:[^@]+@|[a-zA-Z][a-zA-Z0-9+.-]*://)?[^/:?#]*\.[a-zA-Z]+(?:[:/?#]|$)")


def _starts_link(before: str) -> bool:
    """Whether Goldmark's linkify may start a link after this HTML: at its start, after a tag, or
    after a space, `*`, `_`, `~` or `(`."""
    return not before or before.endswith(">") or html.unescape(before[-8:])[-1:] in _ALLOWED_BEFORE


def unlink(body: str, source: str) -> str:
    """`body` (cmark-gfm's HTML of the Markdown `source`) without the links Goldmark would not make."""
    if "<a href=" not in body:
        return body

    def keep_or_unlink(match: re.Match[str]) -> str:
        address, text = html.unescape(match.group(1)), html.unescape(match.group(2))
        if not {address, unquote(address)} & {text, f"mailto:{text}", f"http://{text}"}:
            return match.group(0)  # a link of the Markdown's own, not a bare address
        if f"<{text}>" in source or f"[{text}](" in source:
            return match.group(0)  # written as a link: `<http://x>`, `[http://x](http://x)`
        if not _starts_link(body[max(0, match.start() - 8):match.start()]) or not _HOST.match(address):
            return match.group(2)
        space = next((at for at, char in enumerate(text) if char.isspace()), None)
        if space is not None:
            return _cut(text, space)
        if address == f"http://{text}" and text.startswith("www."):
            return f'<a href="https://{match.group(2)}">{match.group(2)}</a>'
        return match.group(0)

    return _AUTOLINK.sub(keep_or_unlink, body)


def _cut(text: str, space: int) -> str:
    """A bare address's link as Goldmark makes it when the text runs on past a space that is not
    ASCII (cmark-gfm stops at ASCII spaces only): up to the space, less GFM's trailing punctuation
    and unbalanced closing parentheses; the rest is text."""
    head = text[:space]
    while head and (head[-1] in _TRAILING or (head[-1] == ")" and head.count(")") > head.count("("))):
        head = head[:-1]
    rest = _text(text[len(head):])
    if not head:
        return rest
    if _SCHEME.match(head):
        scheme = ""
    else:
        scheme = "https://" if head.startswith("www.") else "mailto:" if "@" in head else "http://"
    href = html.escape(quote(scheme + head, safe=_HREF_SAFE))
    return f'<a href="{href}">{_text(head)}</a>{rest}'


def _text(text: str) -> str:
    """Text as cmark-gfm escapes it in HTML."""
    return html.escape(text, quote=False).replace('"', "&quot;")
