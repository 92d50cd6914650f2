"""Hugo's canonifyURLs and relativeURLs: the root-relative links of each HTML or XML file the
build writes (`href="/…"`, `src="/…"`, `srcset`, and the escaped ones in a feed's HTML) made
absolute, or relative to the file, as Hugo rewrites them after rendering."""

from __future__ import annotations

import re
from functools import partial
from typing import Callable

from bitopia_site.config import SiteConfig
from bitopia_site.model import OutputPage

# As Hugo finds them: the attribute name anywhere (`data-src=` too), `=`, then a quote (or an
# escaped one, in a feed), then one `/` that does not start `//`.
_LINK = re.compile(r"""((?:src|href|url|action)=(?:"|'|&#34;|&#39;|&quot;))/(?!/)""")
_SRCSET = re.compile(r"""(srcset=(?:"|'|&#34;|&#39;|&quot;))([^"'&]*)""")
_SRCSET_URL = re.compile(r"(^|,\s*)/(?!/)")
REWRITTEN = (".html", ".htm", ".xml")

Rewrite = Callable[[OutputPage, str], str]


def link_style(config: SiteConfig) -> Rewrite | None:
    """How the config wants each written file's links rewritten (None: as the templates wrote them);
    relativeURLs wins over canonifyURLs, as in Hugo."""
    if config.relative_urls:
        return relative_links
    if config.canonify_urls:
        scheme, rest = config.base_url.split("://", 1)
        origin = f"{scheme}://{rest.split('/', 1)[0]}/"
        return partial(_canonified, origin)
    return None


def _canonified(origin: str, page: OutputPage, text: str) -> str:
    return _replaced(page, text, origin)


def relative_links(page: OutputPage, text: str) -> str:
    """`text` with its root-relative links relative to `page`'s file: `../../x/` from
    posts/a/index.html, `./x/` from the home page."""
    depth = page.path.count("/")
    return _replaced(page, text, "../" * depth if depth else "./")


def _replaced(page: OutputPage, text: str, root: str) -> str:
    """`text` with the leading `/` of each root-relative link replaced by `root`. Our links already
    hold the site's base path, so a canonified one is the origin followed by the link."""
    if not page.path.endswith(REWRITTEN):
        return text
    text = _LINK.sub(lambda m: m.group(1) + root, text)
    return _SRCSET.sub(lambda m: m.group(1) + _SRCSET_URL.sub(lambda u: u.group(1) + root, m.group(2)), text)
