"""markdown-it-py as the Markdown engine of a site that asks for it (`markdown_engine:
markdown-it-py` in site.yaml): CommonMark with tables, strikethrough and markdown-it's own
typographer, for a writer who wants its behaviour. cmark-gfm stays the default: on the benchmark
corpus it renders about 17 times faster (README, "Why cmark-gfm")."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

ENGINES = ("cmark-gfm", "markdown-it-py")
PACKAGE_HINT = "install it with `pip install 'bitopia-site[markdown-it-py]'`, or remove `markdown_engine:` from site.yaml"


def available() -> bool:
    """Whether markdown-it-py can be imported here."""
    try:
        import markdown_it  # noqa: F401
    except ImportError:
        return False
    return True


def to_html(text: str, raw_html: bool = True) -> str:
    """CommonMark + tables + strikethrough to HTML, with smart quotes and dashes; raw HTML passed
    through only with `raw_html` (else escaped, as markdown-it does)."""
    return _parser(raw_html).render(text)


@lru_cache(maxsize=2)
def _parser(raw_html: bool) -> Any:
    from markdown_it import MarkdownIt

    return (MarkdownIt("commonmark", {"html": raw_html, "typographer": True})
            .enable(["table", "strikethrough", "replacements", "smartquotes"]))
