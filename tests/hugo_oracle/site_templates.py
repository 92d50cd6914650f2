"""What a blog's own Go templates make in Hugo's pages: its render hooks (`_markup/render-link.html`
...) and its shortcodes (`shortcodes/NAME.html`). bitopia runs neither (a site's shortcodes are Jinja
templates in bitopia), so a difference they make is the site's, not bitopia's Markdown: the comparison
names it as such, apart from the differences bitopia can fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# The elements each render hook stands in for, as they show in a body's tokens.
HOOK_TAGS = {
    "link": frozenset({"a"}),
    "image": frozenset({"img", "figure", "figcaption", "picture"}),
    "heading": _HEADINGS,
    "blockquote": frozenset({"blockquote"}),
    "table": frozenset({"table"}),
}
_HOOK = re.compile(r"^render-([a-z]+)")
_SHORTCODE_FOLDERS = {"shortcodes", "_shortcodes"}
CLASS = "body: made by the site's own Go template (render hook / shortcode)"


@dataclass(frozen=True)
class SiteTemplates:
    """A blog's render hooks (by what they render: link, image...) and its shortcodes (by name)."""

    hooks: frozenset[str]
    shortcodes: frozenset[str]

    def called_in(self, text: str) -> list[str]:
        """The site's shortcodes a page's source calls, in the order of their first call."""
        if not self.shortcodes or "{{" not in text:
            return []
        names = re.findall(r"\{\{[<%]\s*/?\s*([\w./-]+)", text)
        return list(dict.fromkeys(n for n in names if n in self.shortcodes))

    def hook_for(self, token: tuple) -> str | None:
        """The render hook of this site that makes an element like `token`, if any."""
        if token[0] in ("<", "/"):
            return next((hook for hook in sorted(self.hooks) if token[1] in HOOK_TAGS.get(hook, ())), None)
        return None


NONE = SiteTemplates(frozenset(), frozenset())


def find(source: Path) -> SiteTemplates:
    """The render hooks and shortcodes of the blog at `source` (its own `layouts/`, as Hugo's side keeps them)."""
    layouts = source / "layouts"
    if not layouts.is_dir():
        return NONE
    hooks, shortcodes = set(), set()
    for path in layouts.rglob("*.html"):
        folders = set(path.relative_to(layouts).parts[:-1])
        if "_markup" in folders and (match := _HOOK.match(path.name)):
            if not path.name.startswith("render-codeblock-"):  # a hook for one language's code blocks only
                hooks.add(match.group(1))
        elif folders & _SHORTCODE_FOLDERS:
            shortcodes.add(path.name.split(".", 1)[0])
    return SiteTemplates(frozenset(hooks), frozenset(shortcodes))


def made_by(site: SiteTemplates, called: list[str], hugo: list, ours: list, at: int) -> str | None:
    """Which of the site's own templates made the first difference of a page's bodies, at token `at`
    (`render hook link`, `shortcode note`), or None: a render hook makes an element of the kind where
    they part; or the page calls a shortcode of the site (whose output bitopia cannot make) and they
    part in markup or in length, or Hugo has text there that bitopia has not (bitopia's text comes
    later in Hugo's body), not where a paragraph's text merely differs."""
    hugo_token, our_token = (hugo[at] if at < len(hugo) else None), (ours[at] if at < len(ours) else None)
    for token in (hugo_token, our_token):
        hook = site.hook_for(token) if token is not None else None
        if hook is not None:
            return f"render hook {hook}"
    if not called:
        return None
    if hugo_token is not None and our_token is not None and hugo_token[0] == our_token[0] == "t":
        return "shortcode " + ", ".join(called[:3]) if our_token in hugo[at + 1:at + 200] else None
    return "shortcode " + ", ".join(called[:3])
