"""Share links for a post: each network's own share form, filled in with the post's title and
address. Plain links: no script, and no request to another host until a reader follows one. The
theme's `share` setting names the networks, in order (themes/bitopia/templates/partials/share.html)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote

# a network's name -> its label and its form, with {t} for the title and {u} for the address
FORMS = {
    "email": ("Email", "mailto:?subject={t}&body={u}"),
    "mastodon": ("Mastodon", "https://mastodonshare.com/?text={t}&url={u}"),
    "bluesky": ("Bluesky", "https://bsky.app/intent/compose?text={t}%20{u}"),
    "linkedin": ("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?url={u}"),
    "hacker news": ("Hacker News", "https://news.ycombinator.com/submitlink?u={u}&t={t}"),
    "reddit": ("Reddit", "https://www.reddit.com/submit?url={u}&title={t}"),
    "x": ("X", "https://x.com/intent/post?text={t}&url={u}"),
    "twitter": ("Twitter", "https://twitter.com/intent/tweet?text={t}&url={u}"),
    "facebook": ("Facebook", "https://www.facebook.com/sharer/sharer.php?u={u}"),
    "whatsapp": ("WhatsApp", "https://wa.me/?text={t}%20{u}"),
    "telegram": ("Telegram", "https://t.me/share/url?url={u}&text={t}"),
}


def share_links(networks: Any, address: str, title: str) -> list[tuple[str, str]]:
    """(label, link) for each known network in `networks` (names in any case; others are skipped)."""
    chosen = _chosen(tuple(str(name).lower() for name in networks or ()))
    if not chosen:
        return []
    url, text = quote(str(address), safe="/"), quote(str(title), safe="/")  # as Jinja's urlencode quotes
    return [(label, form.replace("{t}", text).replace("{u}", url)) for label, form in chosen]


@lru_cache(maxsize=16)
def _chosen(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple(FORMS[name] for name in names if name in FORMS)
