"""Overriding the default theme, and its settings.

Two ways to change the bitopia theme, each built here as a worked example:

1. A site's own `templates/post.html` replaces the theme's `post.html`. It may be a whole new
   template, or extend the theme's version (`{% extends "bitopia/post.html" %}`) and change a block.
2. A theme of one's own names `parent: bitopia` in its `theme.yaml` and holds only what changes:
   its `base.html` extends `bitopia/base.html` and overrides the `footer` block, its `post.html`
   extends `bitopia/post.html` and overrides `post_footer`; its `static/` adds a stylesheet.

Then the settings of themes/bitopia/README.md, one by one, on this repository's own site.
"""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from bitopia_site.build import BuildOptions, build
from conftest import FIXED_NOW, REPO, copy_site

SEED_POST = "2014/08/06/the-live-deployment-stories-from-bitopia/index.html"
PAGER_POST = "2014/10/21/the-pager-stories-from-bitopia/index.html"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    """An element of a parsed page: tag, attributes, children (elements and text)."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: "Node | None") -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def raw_text(self) -> str:
        return "".join(c if isinstance(c, str) else c.raw_text() for c in self.children)

    def text(self) -> str:
        """The text inside, white space collapsed."""
        return " ".join(self.raw_text().split())

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list["Node"]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if ((tag is None or child.tag == tag) and (cls is None or cls in child.classes)
                        and all(child.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())):
                    found.append(child)
                found += child.find_all(tag, cls, **attrs)
        return found

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> "Node":
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag or '*'} class={cls!r} {attrs}>"
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {}, None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(path: Path) -> Node:
    builder = _TreeBuilder()
    builder.feed(path.read_text(encoding="utf-8"))
    return builder.root


def bundled(tmp_path: Path, name: str = "site", params: dict[str, Any] | None = None,
            **settings: Any) -> Path:
    """A copy of this repository's site, with `params` merged into site.yaml's and top-level
    `settings` replacing site.yaml's (None removes a key)."""
    site = tmp_path / name
    site.mkdir()
    copy_site(REPO / "content", site / "content")
    copy_site(REPO / "themes", site / "themes")
    config = yaml.safe_load((REPO / "site.yaml").read_text(encoding="utf-8"))
    config["params"] = {**config.get("params", {}), **(params or {})}
    for key, value in settings.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (site / "site.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return site


def built(site: Path) -> Path:
    out = site.parent / f"{site.name}-out"
    build(site, out, BuildOptions(now=FIXED_NOW, jobs=1))
    return out


def main_of(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    return text[text.index("<main"):text.index("</main>")]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled site built with the theme as it is, to compare overrides against."""
    return built(bundled(tmp_path_factory.mktemp("plain")))


# 1. A site's templates/ folder


def test_site_post_template_replaces_the_themes(tmp_path: Path, plain: Path) -> None:
    site = bundled(tmp_path)
    write(site / "templates" / "post.html", """{% extends "base.html" %}
{% block main %}<article class="plain-post"><h1>{{ page.title }}</h1>{{ page.content }}</article>{% endblock %}
""")
    out = built(site)
    post = parse(out / SEED_POST)
    assert post.find("article", "plain-post").find("h1").text() == "The Live Deployment (Stories from Bitopia)"
    assert post.find_all("figure", "featured") == [] and post.find_all("nav", "prev-next") == []
    # the rest of the theme is untouched: same sidebar, same home page
    assert post.find("aside", "sidebar").text() == parse(plain / SEED_POST).find("aside", "sidebar").text()
    assert (out / "index.html").read_bytes() == (plain / "index.html").read_bytes()


def test_templates_read_fields_of_views_as_jinja_does(tmp_path: Path) -> None:
    """`page.params.x` reads the key; a dict method's name (`items`) stays the method, as in Jinja."""
    site = bundled(tmp_path)
    post = site / "content" / "posts" / "2014-08-06-the-live-deployment-stories-from-bitopia.md"
    post.write_text(post.read_text().replace("draft: false", "draft: false\nparams: {items: 7, mood: calm}"))
    write(site / "templates" / "post.html", """{% extends "base.html" %}
{% block main %}<p class="probe">{{ page.params.mood }}|{{ page.params['items'] }}|{{ page.params.items()|list|length }}\
|{{ page.params.missing is undefined }}|{{ page.title.upper() }}</p>{% endblock %}
""")
    probe = parse(built(site) / SEED_POST).find("p", "probe").text()
    assert probe == "calm|7|2|True|THE LIVE DEPLOYMENT (STORIES FROM BITOPIA)"


def test_site_post_template_can_extend_the_themes_and_change_one_block(tmp_path: Path, plain: Path) -> None:
    site = bundled(tmp_path)
    write(site / "templates" / "post.html", """{% extends "bitopia/post.html" %}
{% block post_footer %}<p class="thanks">Thanks for reading.</p>{{ super() }}{% endblock %}
""")
    out = built(site)
    post = parse(out / PAGER_POST)
    footer_texts = [p.text() for p in post.find("article", "post").find_all("p", "thanks")]
    assert footer_texts == ["Thanks for reading."]
    assert [a.text() for a in post.find("ul", "tags").find_all("a")] == ["#bitopia", "#fiction", "#on-call"]
    assert post.find("nav", "series").find("p", "series-title").text() == "Part 2 of 2 in Stories from Bitopia"
    without = main_of(out / PAGER_POST).replace('<p class="thanks">Thanks for reading.</p>', "")
    assert without == main_of(plain / PAGER_POST)


# 2. A child theme with `parent: bitopia`


def make_night_theme(site: Path) -> None:
    theme = site / "themes" / "night"
    write(theme / "theme.yaml", "parent: bitopia\nparams:\n  terms_style: list\n  date_format: '%Y-%m-%d'\n")
    write(theme / "templates" / "base.html", """{% extends "bitopia/base.html" %}
{% block head %}<link rel="stylesheet" href="{{ url_for('/css/night.css') }}">{% endblock %}
{% block footer %}<footer class="site-footer night"><p>Written at night.</p></footer>{% endblock %}
""")
    write(theme / "templates" / "post.html", """{% extends "bitopia/post.html" %}
{% block post_footer %}<p class="signoff">— {{ page.author }}, after midnight</p>{{ super() }}{% endblock %}
""")
    write(theme / "static" / "css" / "night.css", ":root { --bg: #000; }\n")


def test_child_theme_overrides_one_block_and_inherits_the_rest(tmp_path: Path, plain: Path) -> None:
    site = bundled(tmp_path, theme="night")
    make_night_theme(site)
    out = built(site)
    post = parse(out / SEED_POST)
    assert post.find("p", "signoff").text() == "— alexchiri, after midnight"
    assert post.find("figure", "featured").find("img").attrs["alt"] == "The Live Deployment (Stories from Bitopia)"
    # the child's base.html reaches every page, through every bitopia template that extends base.html
    pages = sorted(out.rglob("*.html"))
    with_footer = [p for p in pages if "Written at night." in p.read_text(encoding="utf-8")]
    redirects = [p for p in pages if 'http-equiv="refresh"' in p.read_text(encoding="utf-8")]
    assert len(with_footer) == len(pages) - len(redirects) > 10
    assert parse(out / "index.html").find_all("link", rel="stylesheet")[-1].attrs["href"] == "/css/night.css"
    # static files: the child's next to the parent's
    assert (out / "css" / "night.css").is_file() and (out / "css" / "bitopia.css").is_file()
    # the child's theme.yaml params apply where the site sets none; the site's own win
    assert parse(out / "tags" / "index.html").find_all("ul", "cloud") == []
    assert parse(out / "tags" / "index.html").find("ul", "terms-list")
    assert parse(out / SEED_POST).find("p", "meta").find("time").text() == "August 6, 2014"  # site.yaml's format
    # a page type the child does not touch renders as the parent's
    assert main_of(out / "index.html") == main_of(plain / "index.html")


def test_child_theme_params_fill_in_what_the_site_leaves_out(tmp_path: Path) -> None:
    site = bundled(tmp_path, theme="night")
    make_night_theme(site)
    config = yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8"))
    del config["params"]["date_format"]
    (site / "site.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    out = built(site)
    assert parse(out / SEED_POST).find("p", "meta").find("time").text() == "2014-08-06"


# 3. Settings (themes/bitopia/README.md)


def test_defaults_intro_monogram_menu_and_categories(plain: Path) -> None:
    home = parse(plain / "index.html")
    intro = home.find("section", "intro")
    assert intro.find("h2", "intro-name").text() == "Stories from Bitopia"
    assert intro.find("span", "monogram").text() == "SB"
    assert intro.find_all("img") == []
    assert [a.text() for a in intro.find("ul", "social").find_all("a")] == ["RSS"]
    assert [a.text() for a in home.find("nav", "menu").find_all("a")] == ["Home", "Archives", "Categories", "About"]
    assert home.find("nav", "menu").find("a", aria_current="page").text() == "Home"
    for page, current in [("archives/index.html", ["Archives"]), ("categories/index.html", ["Categories"]),
                          ("about/index.html", ["About"]), (SEED_POST, []), ("tags/index.html", [])]:
        menu = parse(plain / page).find("nav", "menu")  # rendered once a build for the pages it does not link
        assert [a.text() for a in menu.find_all("a")] == ["Home", "Archives", "Categories", "About"], page
        assert [a.text() for a in menu.find_all("a", aria_current="page")] == current, page
    assert [li.text() for li in home.find("section", "categories").find_all("li")] == ["Writing 3"]
    recent = home.find("section", "recent").find_all("a", "mini")
    assert [a.attrs["href"] for a in recent][-1] == "/2014/08/06/the-live-deployment-stories-from-bitopia/"
    assert recent[-1].find("img", "thumb").attrs["src"] == "/img/2014/08/live_deployment_bitopia.jpg"
    # newest post as a card by default, with the featured image on the seed post's card
    cards = home.find("main").find_all("article", "card")
    assert len(cards) == 3 and not any("is-full" in c.classes for c in cards)
    assert cards[2].find("a", "card-image").find("img").attrs["src"] == "/img/2014/08/live_deployment_bitopia.jpg"
    terms = parse(plain / "tags" / "index.html").find("ul", "cloud")
    assert [li.text() for li in terms.find_all("li")] == ["bitopia 3 posts", "fiction 2 posts", "me 1 post",
                                                          "on-call 1 post"]


def test_settings_change_what_the_theme_shows(tmp_path: Path) -> None:
    site = bundled(tmp_path, params={
        "avatar": "/img/avatar.png", "show_full_first_post": True, "summary_length": 5, "terms_style": "list",
        "date_format": "%d.%m.%Y",
        "social": {"github": "bitopia", "email": "night@bitopia.example", "mastodon": "https://m.example/@b",
                   "homepage_of_marcel": "https://marcel.example/", "rss": False},
        "sidebar": {"categories": False, "recent_posts": 2, "about": "Built at night."},
    })
    shutil.copy(REPO / "content" / "img" / "2014" / "08" / "live_deployment_bitopia.jpg",
                site / "content" / "img" / "avatar.png")
    out = built(site)
    home = parse(out / "index.html")
    avatar = home.find("section", "intro").find("img", "avatar")
    assert (avatar.attrs["src"], avatar.attrs["alt"]) == ("/img/avatar.png", "Stories from Bitopia")
    assert home.find("meta", property="og:image").attrs["content"] == "https://bitopia.example.org/img/avatar.png"
    social = {a.text(): a.attrs["href"] for a in home.find("ul", "social").find_all("a")}
    assert social == {"Email": "mailto:night@bitopia.example", "GitHub": "https://github.com/bitopia",
                      "Homepage Of Marcel": "https://marcel.example/", "Mastodon": "https://m.example/@b"}
    assert home.find_all("section", "categories") == []
    assert len(home.find("section", "recent").find_all("li")) == 2
    assert home.find("section", "about").find("p").text() == "Built at night."
    first, *rest = home.find("main").find_all("article", "card")
    assert "is-full" in first.classes
    assert "after that it is somebody else" in first.find("div", "content").text()  # the whole post
    assert first.find("pre", "highlight")
    assert [c.find("p", "summary").text() for c in rest] == ["Two weeks after the night…", "It was a dark rainy…"]
    assert rest[0].find("time").text() == "14.09.2014"
    terms = parse(out / "tags" / "index.html").find("ul", "terms-list")
    assert [li.find("a").text() for li in terms.find_all("li")] == ["bitopia", "fiction", "me", "on-call"]


def test_hugo_style_params_and_params_menu(tmp_path: Path) -> None:
    site = bundled(tmp_path, params={
        "intro": {"header": "Marcel", "paragraph": "Night shift.", "pic": {"src": "/img/none.jpg", "shape": "square"},
                  "rssIntro": False},
        "sidebar": {"postAmount": 1, "categoriesByCount": False},
        "menu": [{"name": "Start", "url": "/"}, {"name": "Elsewhere", "url": "https://example.org/x"}],
    }, menus=None)
    out = built(site)
    home = parse(out / "index.html")
    intro = home.find("section", "intro")
    assert intro.find("span", "monogram").text() == "M" and "shape-square" in intro.find("span", "monogram").classes
    assert intro.find("p", "bio").text() == "Night shift."
    assert intro.find_all("ul", "social") == []
    assert len(home.find("section", "recent").find_all("li")) == 1
    assert [(a.text(), a.attrs["href"]) for a in home.find("nav", "menu").find_all("a")] == [
        ("Start", "/"), ("Elsewhere", "https://example.org/x")]


def test_text_is_escaped_everywhere(tmp_path: Path) -> None:
    site = bundled(tmp_path, params={"intro": {"header": "<i>Me</i>", "paragraph": "a & b <script>x</script>"}})
    write(site / "content" / "posts" / "2015-01-01-tricky.md", """---
title: "<b>Bold</b> & \\"quoted\\""
date: 2015-01-01
tags: ["<x>"]
---
Body.
""")
    out = built(site)
    for page in [out / "index.html", out / "2015/01/01/tricky/index.html", out / "404.html", out / "tags/index.html"]:
        text = page.read_text(encoding="utf-8")
        assert "<b>Bold</b>" not in text and "<script>x" not in text and "<i>Me</i>" not in text
    post = (out / "2015/01/01/tricky/index.html").read_text(encoding="utf-8")
    assert "<h1>&lt;b&gt;Bold&lt;/b&gt; &amp; &#34;quoted&#34;</h1>" in post
    assert parse(out / "2015/01/01/tricky/index.html").find("ul", "tags").find("a").text() == "#<x>"


def test_links_follow_a_base_path(tmp_path: Path) -> None:
    out = built(bundled(tmp_path, base_url="https://x.example/blog/"))
    post = parse(out / SEED_POST)
    hrefs = [link.attrs["href"] for link in post.find_all("link")]
    assert "/blog/css/bitopia.css" in hrefs and "/blog/css/syntax.css" in hrefs and "/blog/index.xml" in hrefs
    assert post.find("link", rel="canonical").attrs["href"] == "https://x.example/blog/" + SEED_POST[:-len("index.html")]
    assert post.find("meta", property="og:image").attrs["content"] == \
        "https://x.example/blog/img/2014/08/live_deployment_bitopia.jpg"
    assert post.find("figure", "featured").find("img").attrs["src"] == "/blog/img/2014/08/live_deployment_bitopia.jpg"
    local = [a.attrs["href"] for a in post.find_all("a") if not a.attrs["href"].startswith(("http", "mailto:", "#"))]
    assert local and all(h.startswith("/blog/") for h in local), local


# 3. The reading settings


READING = "2014/11/02/headings/index.html"


def test_reading_settings_change_what_the_theme_shows(tmp_path: Path, plain: Path) -> None:
    site = bundled(tmp_path, params={
        "toc": True, "title_case": "uppercase", "share": ["x", "email"], "disqusShortname": "my-blog",
        "accent": "#7a3b8f", "style": {"serif": 'Georgia, "Times New Roman", serif'},
        "style_dark": {"bg": "#000"}, "favicon": "/img/icon.png"})
    write(site / "content" / "posts" / "2014-11-02-headings.md",
          "---\ntitle: Headings\ndate: 2014-11-02\ncomments: false\n---\n## One\n\ntext\n\n## Two\n\ntext\n")
    out = built(site)
    post = parse(out / READING)
    assert [a.attrs["href"] for a in post.find("details", "toc").find_all("a")] == ["#one", "#two"]
    assert post.find("html").attrs["class"] == "titles-uppercase"
    assert [a.text() for a in post.find("nav", "share").find_all("a")] == ["X", "Email"]
    assert not post.find_all("section", "comments")  # `comments: false` in its front matter
    seed = parse(out / SEED_POST)
    button = seed.find("section", "comments").find("button")
    assert button.attrs["data-comments-src"] == "https://my-blog.disqus.com/embed.js" and "hidden" in button.attrs
    style = seed.find("style").text()
    assert ':root{--accent:#7a3b8f;--serif:Georgia, "Times New Roman", serif;}' in style
    assert ':root[data-theme="dark"]{--bg:#000;}' in style and "prefers-color-scheme:dark" in style
    assert [link.attrs["href"] for link in seed.find_all("link", rel="icon")] == ["/img/icon.png"]
    # by default: no toc, no comments, no style of the site's own, both icons of the theme
    default = parse(plain / SEED_POST)
    assert not default.find_all("details", "toc") and not default.find_all("section", "comments")
    assert not default.find_all("style") and "class" not in default.find("html").attrs
    assert [link.attrs["href"] for link in default.find_all("link", rel="icon")] == ["/favicon.ico", "/favicon.svg"]
    assert len(default.find("nav", "share").find_all("a")) == 6


def test_share_false_hides_the_links_and_a_sites_favicon_wins(tmp_path: Path) -> None:
    site = bundled(tmp_path, params={"share": False})
    write(site / "static" / "favicon.ico", "the site's own icon")
    out = built(site)
    assert not parse(out / SEED_POST).find_all("nav", "share")
    assert (out / "favicon.ico").read_text() == "the site's own icon"
    assert (out / "favicon.svg").read_bytes() == (REPO / "themes/bitopia/static/favicon.svg").read_bytes()


def test_a_style_value_cannot_close_the_style_element(tmp_path: Path) -> None:
    out = built(bundled(tmp_path, params={"accent": "red;}</style><script>alert(1)</script>"}))
    text = (out / SEED_POST).read_text(encoding="utf-8")
    assert "<script>alert(1)" not in text and text.count("</style>") == 1
