"""Goldmark's typographer (Hugo's smart punctuation), applied to the text of cmark-gfm's HTML.

cmark-gfm's own smart punctuation pairs quotes by CommonMark's rules; Goldmark's typographer, which
Hugo uses, has rules of its own: `'em`, `'twas`, `'90s` and `'s`/`'ll`/`'ve` after a quote's opening
are apostrophes; a closing double or single quote is curled only while one opened before it in the
document is unclosed; a quote between two letters (`"ideal"ness`) stays straight; `--` is an en dash,
`---` an em dash, `...` an ellipsis, `<<` and `>>` guillemets. Here that is done on the HTML cmark-gfm
renders without its smart punctuation, reading each character as Goldmark reads it: with the source
character before it (a tag stands for the Markdown that made it: `*` for emphasis, `` ` `` for code)
and the rest of its source line. Code is left as it is, and so is what the Markdown wrote as an
entity (`&lt;&lt;`, `&quot;`): Goldmark's typographer never sees it, but cmark-gfm decodes it, so
`hold_entities` keeps each as a Unicode noncharacter until `apply` is done. Checked against Hugo
0.168's own output.
"""

from __future__ import annotations

import functools
import html
import re
import string
import unicodedata
from dataclasses import dataclass
from typing import Callable, Sequence

_PIECE = re.compile(r"(<!--.*?-->|<[^>]*>)", re.S)
_TAG_NAME = re.compile(r"</?([a-zA-Z0-9]+)")
_ALT = re.compile(r'\balt="([^"]*)"')
_VERBATIM = {"code", "pre", "script", "style"}  # text the typographer never sees
_BLOCKS = {"p", "li", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr", "table",
           "thead", "tbody", "div", "hr", "dl", "dt", "dd", "pre", "section", "figure", "figcaption"}
# The Markdown character a tag of cmark-gfm's stands for: before the text that follows it, after the text before it.
_SOURCE_BEFORE = {"em": "*", "strong": "*", "del": "~", "code": "`", "a": ")", "img": ")", "sup": "]", "br": "\n"}
_SOURCE_AFTER = {"em": "*", "strong": "*", "del": "~", "code": "`", "a": "[", "img": "!", "sup": "[", "br": "\n"}
_TRIGGER = re.compile(r"['\"]|--|\.\.\.|<<|>>")  # what the typographer may change (a lone `-` or `.` it never does)
_LOOK_AHEAD = 16  # characters: no rule looks further, but over a run of quotes (the window grows over it)
# Entities the typographer would otherwise see as the characters they stand for, each held as a
# Unicode noncharacter (never in text a person writes), and what it is again in text and in code.
_ENTITIES = ("&lt;", "&gt;", "&quot;", "&#34;", "&#39;", "&apos;", "&#60;", "&#62;")
_HOLD = {entity: chr(0xFDD0 + n) for n, entity in enumerate(_ENTITIES)}
_IN_TEXT = {_HOLD[e]: html.escape(html.unescape(e)).replace("&#x27;", "'") for e in _ENTITIES}
_IN_CODE = {_HOLD[e]: "&amp;" + e[1:] for e in _ENTITIES}
_HELD = re.compile("[\uFDD0-\uFDD7]")
_ENTITY = re.compile("|".join(re.escape(e) for e in _ENTITIES))
LSQUO, RSQUO, LDQUO, RDQUO = "‘", "’", "“", "”"


@dataclass
class _Unclosed:
    """Quotes opened and not yet closed, over the whole document (as Goldmark counts them)."""

    single: int = 0
    double: int = 0


def _ascii_punct(char: str) -> bool:
    return char != "" and char in string.punctuation


def _punct_rune(char: str) -> bool:
    """Goldmark's util.IsPunctRune: ASCII punctuation, or Unicode's (P*)."""
    return _ascii_punct(char) or (char != "" and unicodedata.category(char).startswith("P"))


def _go_punct(char: str) -> bool:
    """Go's unicode.IsPunct: category P only (`$`, `+`, `<` are symbols)."""
    return char != "" and unicodedata.category(char).startswith("P")


def _space(char: str) -> bool:
    return char != "" and char.isspace()


def _flanking(line: str, before: str) -> tuple[bool, bool]:
    """Goldmark's ScanDelimiter for a run of the quote at line[0]: can it open, can it close."""
    end = 1
    while end < len(line) and line[end] == line[0]:
        end += 1
    after = line[end] if end < len(line) else " "
    before_punct, before_space = _punct_rune(before), _space(before)
    after_punct, after_space = _punct_rune(after), _space(after)
    left = not after_space and (not after_punct or before_space or before_punct)
    right = not before_space and (not before_punct or after_space or after_punct)
    return left, right


def _at(line: str, index: int) -> str:
    return line[index] if index < len(line) else ""


def _closes(line: str, can_open: bool, can_close: bool) -> bool:
    maybe = (can_close and can_open and len(line) > 1 and _punct_rune(line[1])
             and (len(line) == 2 or _ascii_punct(_at(line, 2)) or _space(_at(line, 2))))
    return (can_close and not can_open) or maybe


def _quote(line: str, before: str, unclosed: _Unclosed) -> str | None:
    """What Goldmark's typographer makes of the quote at line[0], or None (it stays as typed)."""
    can_open, can_close = _flanking(line, before)
    if line[0] == "'":
        if can_open and not can_close and len(line) > 3 and line[1].isdigit() and line[2].isdigit() and line[3] == "s":
            after = _at(line, 4) or " "
            if _space(after) or _punct_rune(after):
                return RSQUO  # '90s
        if len(line) > 1 and (_go_punct(before) or _space(before)) and line[1] in "tenl":
            return RSQUO  # 'twas, 'em, 'net
        if len(line) > 1 and (before.isdigit() or before.isalpha()) and line[1].isalpha():
            return RSQUO  # it's
        if can_open and not can_close:
            third, fourth = _at(line, 2), _at(line, 3)
            if (len(line) > 1 and line[1] in "smtd" and (len(line) < 3 or _ascii_punct(third) or _space(third))) or (
                    len(line) > 2 and line[1:3] in ("ve", "ll", "re")
                    and (len(line) < 4 or _ascii_punct(fourth) or _space(fourth))):
                return RSQUO  # 's, 'm, 'll...
            unclosed.single += 1
            return LSQUO
        if len(line) > 2 and not line[1].isdigit():
            return RSQUO  # Smiths', doin'
        if unclosed.single > 0 and _closes(line, can_open, can_close):
            unclosed.single -= 1
            return RSQUO
        return None
    if can_open and not can_close:
        unclosed.double += 1
        return LDQUO
    if unclosed.double > 0 and _closes(line, can_open, can_close):
        if len(line) > 1 and line[1] == '"' and before.isdigit():
            return None  # Monitor 21""
        unclosed.double -= 1
        return RDQUO
    return None


def _replace(line: str, before: str, unclosed: _Unclosed) -> tuple[str, int] | None:
    """What the typographer makes at line[0] and how many characters it takes, or None."""
    char = line[0]
    if char == "-" and _at(line, 1) == "-":
        return ("—", 3) if _at(line, 2) == "-" else ("–", 2)
    if char == "." and line[1:3] == "..":
        return "…", 3
    if char in "<>" and _at(line, 1) == char:
        return ("«" if char == "<" else "»"), 2
    if char in "'\"":
        made = _quote(line, before, unclosed)
        return None if made is None else (made, 1)
    return None


def _typeset(text: str, before: str, rest: str, unclosed: _Unclosed) -> str:
    """One text node: `before` the source character before it, `rest` what follows it up to the
    end of its line ('' when its block ends there, "\\n" at a line break). The text between two
    characters the typographer may change is copied as it is; at each of those, it looks a few
    characters ahead (no rule looks further than _LOOK_AHEAD)."""
    out: list[str] = []
    at, size = 0, len(text)
    while (found := _TRIGGER.search(text, at)) is not None:
        start = found.start()
        if start > at:
            out.append(text[at:start])
            before = ";" if _HELD.match(text[start - 1]) else text[start - 1]
        end = start + _LOOK_AHEAD
        while end - 1 <= size and text[end - 2:end - 1] == text[start]:  # a run of quotes, and what follows it
            end += _LOOK_AHEAD
        newline = text.find("\n", start, end)
        line = (text[start:newline + 1] if newline >= 0 else text[start:end] if end <= size
                else text[start:] + rest[:_LOOK_AHEAD])
        made = _replace(line, before, unclosed)
        if made is not None and start + made[1] <= size:  # not across a tag
            out.append(made[0])
            at = start + made[1]
            before = text[at - 1]
        else:
            out.append(text[start])
            before = text[start]
            at = start + 1
    out.append(text[at:])
    return "".join(out)


def _escape(text: str, held: dict[str, str] = _IN_TEXT) -> str:
    escaped = html.escape(text, quote=False).replace('"', "&quot;")
    return _HELD.sub(lambda m: held[m.group(0)], escaped) if _HELD.search(escaped) else escaped


def hold_entities(markdown: str) -> str:
    """The Markdown with each entity the typographer must not see held for `apply` to give back."""
    return _ENTITY.sub(lambda m: _HOLD[m.group(0)], markdown) if "&" in markdown else markdown


# Text `apply` would change: what the typographer may change, once `&lt;`/`&gt;` are read as the characters they
# stand for; an entity it would write otherwise (all but `&amp;`, `&lt;`, `&gt;`); a held one.
# Written as one character class and a look back, so that the search skips ahead at C speed.
_TYPESET = re.compile(r"""[-'".<>&\uFDD0-\uFDD7](?:(?<=['"\uFDD0-\uFDD7])|(?<=-)-|(?<=\.)\.\.|(?<=<)<|(?<=>)>"""
                      r"|(?<=&)(?!amp;|lt;|gt;))")
_ANY_ALT = re.compile(r'alt="([^"]*)"')  # a few more than images' alt texts: enough to know that none changes
_VERBATIM_NAME = r"(?:code|pre|script|style)\b"
# From a verbatim tag to the first that closes one: all the text between is verbatim, whatever encloses it.
_VERBATIM_ELEMENT = re.compile(rf"<{_VERBATIM_NAME}[^>]*>.*?</{_VERBATIM_NAME}[^>]*>", re.I | re.S)


def _unchanged(body: str) -> bool:
    """Whether `apply` would give `body` back as it is: no text outside code (nor an image's alt
    text) that the typographer may change or that would be written otherwise. Checked with a few
    passes of C-level regular expressions, so most bodies need no walk of their pieces."""
    if _HELD.search(body):
        return False
    text = _PIECE.sub("\0", _VERBATIM_ELEMENT.sub("", body)).replace("&lt;", "<").replace("&gt;", ">")
    if "<img" in body:
        text += "\0" + "\0".join(_ANY_ALT.findall(body))
    return _TYPESET.search(text) is None


@functools.lru_cache(maxsize=4096)  # a page holds few kinds of tag, many times each
def _tag(piece: str) -> tuple[str, bool]:
    """A tag's name (lower case; '' for a comment) and whether it closes."""
    found = _TAG_NAME.match(piece)
    return (found.group(1).lower() if found else ""), piece.startswith("</")


# What the Markdown must hold for `apply` to change its HTML: a quote, `--`, `...`, `<<`, `>>`, an
# entity or one held by `hold_entities` (cmark-gfm writes no text of its own that holds any of them).
# One character class and a look back, as _TYPESET: three times quicker than the alternatives.
_SOURCE_TRIGGER = re.compile(r"""[-'".<>&\uFDD0-\uFDD7](?:(?<=['"&\uFDD0-\uFDD7])|(?<=-)-|(?<=\.)\.\.|(?<=<)<|(?<=>)>)""")


def apply(body: str, source: str | None = None, raw_blocks: Callable[[], Sequence[str] | None] | None = None) -> str:
    """cmark-gfm's HTML (rendered without smart punctuation) with Goldmark's typography in its text;
    given the Markdown `source` it was rendered from, a body whose source holds nothing to typeset
    is given back at once. `raw_blocks()` lists the Markdown's raw HTML blocks, as cmark.html_blocks:
    their text is left as written, as Goldmark leaves it (asked only when a text is to be typeset)."""
    if source is not None and _SOURCE_TRIGGER.search(source) is None:
        return body
    return body if _unchanged(body) else _walk(body, (raw_blocks() or ()) if raw_blocks is not None else ())


def _spans(body: str, blocks: Sequence[str]) -> list[tuple[int, int]]:
    """Where in `body` each raw HTML block is (they come in order, each as it is written)."""
    spans, position = [], 0
    for block in blocks:
        found = body.find(block, position)
        if found >= 0 and block:
            spans.append((found, found + len(block)))
            position = found + len(block)
    return spans


def _walk(body: str, raw_blocks: Sequence[str] = ()) -> str:
    """`apply`'s work: each text node of the body typeset (but those of `raw_blocks`), each held
    entity given back."""
    pieces = _PIECE.split(body)
    spans = _spans(body, raw_blocks)
    offset = 0
    unclosed = _Unclosed()
    verbatim = 0
    before = "\n"
    for index in range(0, len(pieces), 2):
        text = pieces[index]
        raw = bool(spans) and any(start <= offset < end for start, end in spans)
        offset += len(text) + (len(pieces[index + 1]) if index + 1 < len(pieces) else 0)
        if text and raw:  # a raw HTML block's text: written as it is, its entities given back
            pieces[index] = _HELD.sub(lambda m: _IN_TEXT[m.group(0)], text)
            before = html.unescape(text)[-1]
        elif text and not verbatim:
            plain = html.unescape(text)
            if _TRIGGER.search(plain) or _HELD.search(plain):
                pieces[index] = _escape(_typeset(plain, before, _rest(pieces, index + 1), unclosed))
            elif "&" in text:  # nothing to typeset: only escaped again, as the text typeset would be
                pieces[index] = _escape(plain)
            before = plain[-1]
        elif text:
            pieces[index] = _HELD.sub(lambda m: _IN_CODE[m.group(0)], text)
            before = html.unescape(text)[-1]
        if index + 1 < len(pieces):
            name, closing = _tag(pieces[index + 1])
            if _HELD.search(pieces[index + 1]):
                pieces[index + 1] = _HELD.sub(lambda m: _IN_TEXT[m.group(0)], pieces[index + 1])
            if name == "img" and not verbatim and not raw:  # an image's alt text is Markdown text too: `![alt](src)`
                pieces[index + 1] = _ALT.sub(lambda m: f'alt="{_escape(_typeset(html.unescape(m.group(1)), "[", "]", unclosed))}"',
                                             pieces[index + 1], count=1)
            if name in _VERBATIM:
                verbatim = max(0, verbatim + (-1 if closing else 1))
            before = "\n" if name in _BLOCKS else _SOURCE_BEFORE.get(name, ">")
    return "".join(pieces)


def _rest(pieces: list[str], tag_index: int) -> str:
    """What follows a text node on its source line, as far as the typographer looks: the Markdown
    character the next tag stands for (and the text after it), or '' where the block ends."""
    out = ""
    while tag_index < len(pieces):
        name, _ = _tag(pieces[tag_index])
        if name in _BLOCKS or name == "br":
            return out + ("\n" if name == "br" else "")
        out += _SOURCE_AFTER.get(name, "<")
        following = html.unescape(pieces[tag_index + 1]) if tag_index + 1 < len(pieces) else ""
        if "\n" in following:
            return out + following[:following.index("\n") + 1]
        out += following
        if len(out) > 4:
            return out
        tag_index += 2
    return out
