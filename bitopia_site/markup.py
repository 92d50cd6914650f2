"""Markdown to HTML with cmark-gfm (GitHub's C implementation of CommonMark + GFM): tables,
strikethrough, autolinks, footnotes, smart punctuation, raw HTML passed through; then heading
ids, a table of contents, Pygments highlighting, a summary and a word count.
Pure: text in, RenderedMarkdown out."""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator

from cmarkgfm.cmark import Options
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from bitopia_site import cmark, goldmark_autolinks, goldmark_ids, goldmark_typographer, markdown_it_engine
from bitopia_site.htmlfix import balance
from bitopia_site.hugo_summary import hugo_summary
from bitopia_site.urls import urlize

MORE = "<!--more-->"
WORDS_PER_MINUTE = 213
EXTENSIONS = ["table", "strikethrough", "autolink"]
OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_SMART | Options.CMARK_OPT_FOOTNOTES
SAFE_OPTIONS = OPTIONS & ~Options.CMARK_OPT_UNSAFE  # a Hugo site's default: goldmark's `unsafe` off
SETTINGS = f"cmark-gfm:{EXTENSIONS}:{int(OPTIONS)}:ids+pygments+balance+goldmark-typographer+linkify+cell-style:v10"

_TAG = re.compile(r"<[^>]*>")
_FOOTNOTE_REF = re.compile(r'<sup class="footnote-ref">.*?</sup>', re.S)
_RAW_HTML = re.compile(r"<[a-zA-Z!/]")
_HTML_BLOCK_START = re.compile(r"^[ \t>*+\-0-9.)]*<[a-zA-Z!/?]", re.M)  # a line that may start a raw HTML block
_HEADING = re.compile(r"<h([1-6])>(.*?)</h\1>", re.S)
_CODE = re.compile(r'<pre><code class="language-([^"\s]+)">(.*?)</code></pre>', re.S)
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_SMART = re.compile("[‘’“”–—…]")  # what cmark-gfm's smart punctuation makes
_CELL_ALIGN = re.compile(r'<(t[hd]) align="(left|center|right)">')


@dataclass(frozen=True, slots=True)
class RenderedMarkdown:
    """What a Markdown body becomes."""

    html: str
    summary: str  # HTML
    summary_is_excerpt: bool  # True when the summary is not the whole text
    toc: tuple[tuple[int, str, str], ...]  # (level, id, text)
    word_count: int

    @property
    def reading_time(self) -> int:
        return max(1, math.ceil(self.word_count / WORDS_PER_MINUTE))


def to_html(text: str, raw_html: bool = True, goldmark: bool = False, engine: str = "cmark-gfm") -> str:
    """CommonMark + GFM to HTML, with raw HTML balanced so it cannot break the page around it;
    without `raw_html`, each piece of it is `<!-- raw HTML omitted -->`, as Goldmark (Hugo) writes;
    with `goldmark`, quotes and dashes are Goldmark's typographer's (a Hugo site), not cmark-gfm's;
    `engine` markdown-it-py renders with markdown-it-py instead (markdown_it_engine.py; not in a Hugo site)."""
    options = OPTIONS if raw_html else SAFE_OPTIONS
    if engine == "markdown-it-py" and not goldmark:
        body = markdown_it_engine.to_html(text, raw_html)
    elif goldmark:
        held = goldmark_typographer.hold_entities(text)
        options &= ~Options.CMARK_OPT_SMART
        body = cmark.to_html(held, options, EXTENSIONS)
        may_hold_blocks = "<" in held and _HTML_BLOCK_START.search(held)  # `in` first: many posts have no `<`
        blocks = (lambda: cmark.html_blocks(held, options, EXTENSIONS)) if may_hold_blocks else None
        body = goldmark_typographer.apply(goldmark_autolinks.unlink(body, text), text, blocks)
        if "<table>" in body:
            body = _CELL_ALIGN.sub(r'<\1 style="text-align: \2">', body)  # Goldmark aligns a cell by its style
    else:
        body = cmark.to_html(text, options, EXTENSIONS)
    if _RAW_HTML.search(text):
        body = balance(body)
    if "<pre><code class=" in body:
        body = _CODE.sub(_highlight, body)
    return body


def render(text: str, summary_words: int = 70, summary: str | None = None,
           fill: Callable[[str], str] | None = None, markdown: bool = True,
           raw_html: bool = True, goldmark: bool = False, engine: str = "cmark-gfm") -> RenderedMarkdown:
    """Render a Markdown body (or, not `markdown`, an HTML one: a Hugo site's .html content, its
    tags balanced); `summary` from front matter wins over the text's own. `fill` puts the HTML of
    shortcodes back in place of their placeholders (shortcodes.Expanded.fill); without `raw_html`,
    the Markdown's raw HTML is omitted (to_html); with `goldmark` (a Hugo site), quotes, dashes,
    heading ids and the summary are as Hugo makes them; `engine` is the Markdown engine (to_html)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    convert: Callable[[str], str] = (lambda part: to_html(part, raw_html, goldmark, engine)) if markdown else balance
    plain = (lambda: cmark.to_html(text, (OPTIONS if raw_html else SAFE_OPTIONS) & ~Options.CMARK_OPT_SMART,
                                   EXTENSIONS)) if goldmark else None
    body, toc = _heading_ids(convert(text), plain) if markdown else (balance(text), ())
    if fill is not None:
        body = fill(body)
    word_count = len(plain_text(body).split())
    if summary is not None:
        summary_html, excerpt = _inline(to_html(summary, raw_html, goldmark, engine)), True
    elif MORE in text:
        summary_html, excerpt = convert(text.split(MORE, 1)[0]).strip(), True
        if fill is not None:
            summary_html = fill(summary_html)
    elif goldmark:
        summary_html, excerpt = hugo_summary(body, summary_words)
    else:
        summary_html, excerpt = _first_paragraphs(body, summary_words, word_count)
    return RenderedMarkdown(body, summary_html, excerpt, toc, word_count)


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment: footnote marks and tags dropped, entities decoded."""
    if '<sup class="footnote-ref">' in fragment:
        fragment = _FOOTNOTE_REF.sub("", fragment)
    return html.unescape(_TAG.sub("", fragment.replace("<br", " <br")))


def _inline(fragment: str) -> str:
    """A one-paragraph fragment without its <p> wrapper."""
    fragment = fragment.strip()
    if fragment.startswith("<p>") and fragment.endswith("</p>") and fragment.count("<p>") == 1:
        return fragment[3:-4]
    return fragment


@lru_cache(maxsize=256)
def _lexer(lang: str):
    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return None


def _highlight(match: re.Match[str]) -> str:
    lang, code = match.group(1), match.group(2)
    lexer = _lexer(lang)
    if lexer is None:
        return match.group(0)
    body = pygments_highlight(html.unescape(code), lexer, _formatter())
    return f'<pre class="highlight"><code class="language-{lang}">{body}</code></pre>'


@lru_cache(maxsize=1)
def _formatter() -> HtmlFormatter:
    return HtmlFormatter(nowrap=True)


def _heading_ids(body: str, plain: Callable[[], str] | None = None) -> tuple[str, tuple[tuple[int, str, str], ...]]:
    """Give every Markdown heading a unique id and collect h2-h4 for the TOC. The id is a urlized
    slug; or, given `plain` (the same Markdown's HTML without smart punctuation: a Hugo site), the
    id Hugo makes, from the heading's text in that HTML (goldmark_ids)."""
    used: dict[str, int] = {}
    toc: list[tuple[int, str, str]] = []
    plain_inners: Iterator[str] = iter(())

    def name(match: re.Match[str]) -> str:
        level, inner = int(match.group(1)), match.group(2)
        inner, given, extra = _heading_attributes(inner)
        text = " ".join(plain_text(inner).split())
        plain_inner = next(plain_inners, inner)
        if plain is not None and not given:
            base = goldmark_ids.heading_id(_heading_attributes(plain_inner)[0])
            if base is None:  # a heading whose text is nothing: Goldmark gives it no id
                return f"<h{level}{extra}>{inner}</h{level}>"
        else:
            base = given or urlize(text) or "section"
        count = used.get(base, 0)
        used[base] = count + 1
        ident = base if count == 0 or given else f"{base}-{count}"
        if 2 <= level <= 4:
            toc.append((level, ident, text))
        return f'<h{level} id="{html.escape(ident)}"{extra}>{inner}</h{level}>'

    if "<h" not in body:
        return body, ()
    if plain is not None and any(_SMART.search(m.group(2)) for m in _HEADING.finditer(body)):
        plain_inners = iter([m.group(2) for m in _HEADING.finditer(plain())])  # rendered only when it differs
    return _HEADING.sub(name, body), tuple(toc)


_ATTRIBUTES = re.compile(r"\s*\{([^{}]*)\}\s*$")
_ATTRIBUTE = re.compile(r'#([\w-]+)|\.([\w-]+)|([A-Za-z_:][\w:.-]*)=(?:&quot;(.*?)&quot;|[“"](.*?)[”"]|([^\s"“”]+))')


def _heading_attributes(inner: str) -> tuple[str, str, str]:
    """A heading's `{#id .class key=value}` at its end, as Goldmark reads it: (the heading without
    it, the id it gives or '', the other attributes as HTML); a `{...}` of anything else is text."""
    found = _ATTRIBUTES.search(inner) if inner.rstrip().endswith("}") else None
    if found is None or not found.group(1).strip():
        return inner, "", ""
    ident, classes, others = "", [], []
    position = 0
    spec = found.group(1).strip()
    while position < len(spec):
        token = _ATTRIBUTE.match(spec, position)
        if token is None:
            return inner, "", ""
        if token.group(1):
            ident = token.group(1)
        elif token.group(2):
            classes.append(token.group(2))
        else:
            value = next(v for v in token.group(4, 5, 6) if v is not None)
            others.append(f' {token.group(3)}="{value}"')
        position = token.end()
        while position < len(spec) and spec[position].isspace():
            position += 1
    extra = (f' class="{" ".join(classes)}"' if classes else "") + "".join(others)
    return inner[:found.start()], ident, extra


def _first_paragraphs(body: str, limit: int, total_words: int) -> tuple[str, bool]:
    """The opening paragraphs' text, cut at a word boundary after about `limit` words."""
    words: list[str] = []
    for match in _PARAGRAPH.finditer(body.split('<section class="footnotes"', 1)[0]):
        words += plain_text(match.group(1)).split()
        if len(words) >= limit // 2:
            break
    cut = words[:limit]
    text = " ".join(cut) + ("…" if len(words) > limit else "")
    return html.escape(text, quote=False), len(cut) < total_words


def pygments_css(style: str = "default", scope: str = ".highlight") -> str:
    """CSS for highlighted code in one Pygments style."""
    return HtmlFormatter(style=style).get_style_defs(scope)
