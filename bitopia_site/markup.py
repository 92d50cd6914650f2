"""Markdown to HTML (markdown-it-py), with highlighted code, heading ids, a table of contents,
a summary and a word count. Pure: text in, RenderedMarkdown out."""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from bitopia_site.htmlfix import balance
from bitopia_site.urls import urlize

MORE = "<!--more-->"
WORDS_PER_MINUTE = 213
SETTINGS = "commonmark+table+strikethrough+footnote+typographer+anchors+pygments+balance:v1"
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class RenderedMarkdown:
    """What a Markdown body becomes."""

    html: str
    summary: str  # HTML
    summary_is_excerpt: bool  # True when cut from the text (not the whole body)
    toc: tuple[tuple[int, str, str], ...]  # (level, id, text)
    word_count: int

    @property
    def reading_time(self) -> int:
        return max(1, math.ceil(self.word_count / WORDS_PER_MINUTE))


def _highlight(code: str, lang: str, _attrs: str) -> str:
    name = (lang or "").split()[0] if lang else ""
    if not name:
        return ""
    try:
        lexer = get_lexer_by_name(name)
    except ClassNotFound:
        return ""
    body = pygments_highlight(code, lexer, _formatter())
    return f'<pre class="highlight"><code class="language-{html.escape(name)}">{body}</code></pre>'


@lru_cache(maxsize=1)
def _formatter() -> HtmlFormatter:
    return HtmlFormatter(nowrap=True)


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": True, "highlight": _highlight})
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.use(footnote_plugin)
    md.use(anchors_plugin, min_level=1, max_level=6, slug_func=lambda s: urlize(s) or "section")
    return md


def render(text: str, summary_words: int = 70, summary: str | None = None) -> RenderedMarkdown:
    """Render a Markdown body; `summary` from front matter wins over the text's own."""
    md = _markdown()
    tokens = md.parse(text.replace("\r\n", "\n").replace("\r", "\n"), {})
    body = md.renderer.render(tokens, md.options, {})
    has_raw_html = any(t.type == "html_block" or (t.type == "inline" and any(
        c.type == "html_inline" for c in t.children or ())) for t in tokens)
    if has_raw_html:
        body = balance(body)
    plain = _plain_text(tokens)
    words = len(plain.split())
    if summary is not None:
        summary_html, excerpt = md.renderInline(str(summary)), True
    elif MORE in text:
        summary_html, excerpt = balance(md.render(text.split(MORE, 1)[0]).strip()), True
    else:
        summary_html, excerpt = _first_paragraph(tokens, summary_words)
    return RenderedMarkdown(body, summary_html, excerpt, _toc(tokens), words)


def _plain_text(tokens: list[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if token.type == "inline":
            parts.append(_inline_text(token))
        elif token.type in ("fence", "code_block"):
            parts.append(token.content)
        elif token.type == "html_block":
            parts.append(_TAG.sub(" ", token.content))
    return " ".join(parts)


def _inline_text(token: Token) -> str:
    out = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
    return "".join(out)


def _first_paragraph(tokens: list[Token], limit: int) -> tuple[str, bool]:
    """The first paragraph's text, cut at a word boundary after about `limit` words."""
    collected: list[str] = []
    paragraphs = 0
    for i, token in enumerate(tokens):
        if token.type == "inline" and i and tokens[i - 1].type == "paragraph_open":
            collected += _inline_text(token).split()
            paragraphs += 1
            if len(collected) >= limit // 2:
                break
    cut = collected[:limit]
    text = " ".join(cut)
    more = len(collected) > limit or paragraphs < _count_paragraphs(tokens) or any(
        t.type in ("fence", "code_block", "heading_open", "bullet_list_open", "blockquote_open") for t in tokens)
    return html.escape(text + ("…" if len(collected) > limit else ""), quote=False), more


def _count_paragraphs(tokens: list[Token]) -> int:
    return sum(1 for t in tokens if t.type == "paragraph_open")


def _toc(tokens: list[Token]) -> tuple[tuple[int, str, str], ...]:
    entries = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3", "h4"):
            ident = str(token.attrs.get("id", ""))
            entries.append((int(token.tag[1]), ident, _inline_text(tokens[i + 1])))
    return tuple(entries)


def pygments_css(style: str = "default", scope: str = ".highlight") -> str:
    """CSS for highlighted code in one Pygments style."""
    return HtmlFormatter(style=style).get_style_defs(scope)
