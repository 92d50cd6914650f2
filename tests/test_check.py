"""`bitopia check`: a production build whose internal links and images resolve and whose drafts stay hidden."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bitopia_site.build import render_site
from bitopia_site.check import check_site, production_options
from bitopia_site.links import broken_in_documents
from bitopia_site.cli import main
from bitopia_site.errors import BuildFailed
from tests.conftest import FIXED_NOW


def write_post(site: Path, name: str, body: str, **front: object) -> Path:
    meta = {"title": name.replace("-", " ").title(), "date": "2015-03-01 10:00:00+00:00", **front}
    lines = ["---", *(f"{key}: {value}" for key, value in meta.items()), "---", "", body, ""]
    path = site / "content" / "posts" / f"{name}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def problems(site: Path) -> list[str]:
    _, result = check_site(site, now=FIXED_NOW, jobs=1)
    return [p.format() for p in result.problems]


def test_the_bundled_site_passes(bundled_site: Path) -> None:
    built, result = check_site(bundled_site, now=FIXED_NOW, jobs=1)
    assert result.problems == []
    assert result.pages == sum(p.endswith(".html") for p in built.rendered)
    assert result.references > 10 * result.pages  # menus, cards, stylesheet, canonical links
    assert "no problems" in result.summary()


def test_a_broken_link_in_a_post_is_reported_at_its_line(bundled_site: Path) -> None:
    write_post(bundled_site, "linking", "Intro.\n\nSee [the old page](/2014/01/01/gone/) and [home](/).")
    assert problems(bundled_site) == [
        "content/posts/linking.md:8: links to /2014/01/01/gone/, which is not on the site — "
        "fix the link, or add the page it points to"]


def test_missing_images_relative_links_and_ignored_links(bundled_site: Path) -> None:
    body = "\n".join([
        "![a cat](/img/cat.jpg)",                      # missing image
        "[sibling](../../../../about/)",               # relative, resolves to /about/: fine
        "[up](../../../nowhere/)",                     # relative, resolves to /2015/nowhere/: broken
        "[ext](https://example.com/x) [mail](mailto:a@b.c) [frag](#top) [tel](tel:123)",
        "[abs](https://bitopia.example.org/about/) [abs-bad](https://bitopia.example.org/nope/)",
        "[no-slash](/about) [query](/about/?x=1#y)",   # /about redirects to /about/; query and fragment dropped
        "[bare host](www.example.com/)",
    ])
    write_post(bundled_site, "mixed", body)
    found = problems(bundled_site)
    assert found == [
        "content/posts/mixed.md:6: shows the image /img/cat.jpg, which is not on the site — "
        "add the file under static/ or content/, or fix the path",
        "content/posts/mixed.md:8: links to ../../../nowhere/, which is not on the site — "
        "fix the link, or add the page it points to",
        "content/posts/mixed.md:10: links to https://bitopia.example.org/nope/, which is not on the site — "
        "fix the link, or add the page it points to",
        "content/posts/mixed.md:12: links to www.example.com/, which is not on the site — "
        "it reads as a path on this site; for another site write https://www.example.com/",
    ]


def test_a_link_to_a_draft_or_future_post_is_a_leak(bundled_site: Path) -> None:
    write_post(bundled_site, "secret", "Not yet.", draft="true", url="/secret/")
    write_post(bundled_site, "tomorrow", "Later.", date="2030-01-01 00:00:00+00:00", url="/tomorrow/")
    write_post(bundled_site, "teaser", "Soon: [a secret](/secret/) and [more](/tomorrow/).")
    assert problems(bundled_site) == [
        "content/posts/teaser.md:6: links to /secret/, which is content/posts/secret.md; it is a draft and is "
        "not published — remove the link, or publish it (draft: false, a date in the past)",
        "content/posts/teaser.md:6: links to /tomorrow/, which is content/posts/tomorrow.md; it is dated in "
        "the future (2030-01-01T00:00:00+00:00) and is not published — remove the link, or publish it "
        "(draft: false, a date in the past)",
    ]


def test_a_file_at_a_drafts_url_is_reported(bundled_site: Path) -> None:
    write_post(bundled_site, "secret", "Not yet.", draft="true", url="/secret/")
    (bundled_site / "static" / "secret").mkdir(parents=True)
    (bundled_site / "static" / "secret" / "index.html").write_text("<p>the draft, copied by hand</p>")
    assert problems(bundled_site) == [
        "content/posts/secret.md: is a draft, but the output has a file at its URL /secret/ (secret/index.html) "
        "— remove that file from static/ or content/, or publish the document"]


def test_a_draft_rewrite_of_a_live_page_is_not_a_leak(bundled_site: Path) -> None:
    write_post(bundled_site, "about-v2", "A new about page.", draft="true", url="/about/", type="page")
    assert problems(bundled_site) == []


def test_a_broken_menu_link_is_reported_in_site_yaml(bundled_site: Path) -> None:
    config = bundled_site / "site.yaml"
    config.write_text(config.read_text().replace("url: /about/", "url: /team/"))
    found = problems(bundled_site)
    assert len(found) == 1
    line = next(n for n, text in enumerate(config.read_text().splitlines(), 1) if "/team/" in text)
    assert found[0].startswith(f"site.yaml:{line}: links to /team/, which is not on the site")


def test_links_under_a_base_path(bundled_site: Path) -> None:
    config = bundled_site / "site.yaml"
    config.write_text(config.read_text().replace("https://bitopia.example.org/", "https://x.example.org/blog/"))
    write_post(bundled_site, "paths", "[in](/about/) [out of the site](https://x.example.org/shop/) "
                                      "[missing](https://x.example.org/blog/missing/)")
    assert problems(bundled_site) == [
        "content/posts/paths.md:6: links to https://x.example.org/blog/missing/, which is not on the site — "
        "fix the link, or add the page it points to"]


def test_a_site_that_does_not_build_raises(bundled_site: Path) -> None:
    write_post(bundled_site, "bad", "x", title="[unclosed")
    with pytest.raises(BuildFailed) as failed:
        check_site(bundled_site, now=FIXED_NOW, jobs=1)
    assert any(e.path == "content/posts/bad.md" for e in failed.value.errors)


def test_the_cli_exits_1_on_problems_and_0_when_clean(bundled_site: Path) -> None:
    runner = CliRunner()
    clean = runner.invoke(main, ["check", "-s", str(bundled_site)])
    assert clean.exit_code == 0, clean.output
    assert "no problems" in clean.output
    write_post(bundled_site, "linking", "[gone](/gone/)")
    broken = runner.invoke(main, ["check", "-s", str(bundled_site)])
    assert broken.exit_code == 1
    assert "content/posts/linking.md:6: links to /gone/, which is not on the site" in broken.output
    assert broken.output.splitlines()[-1].endswith("internal links and images): 1 problem.")


def test_the_real_blog(real_blog: Path) -> None:
    """What the check finds in the real blog: links that are broken on alexchiri.com too.

    Two old-style internal URLs that never existed on the live site (it has /2016/11/06/… and
    /categories/the-vision/), and three links written without https://, which browsers resolve
    to paths below the post. Its two drafts are not linked from anywhere.
    """
    found = problems(real_blog)
    assert [p.split(" — ")[0] for p in found] == [
        "content/blog/2013-09-04-who-knows-what-dinking-is.markdown:80: links to www.yukisnow.co.uk, "
        "which is not on the site",
        "content/blog/2016-02-10-jfokus-2016-day-2-talks-talks-and-some-snoring.markdown:17: links to "
        "www.intel.com/, which is not on the site",
        "content/blog/2016-02-10-jfokus-2016-day-2-talks-talks-and-some-snoring.markdown:62: links to "
        "www.ibm.com/, which is not on the site",
        "content/blog/2016-11-06-drunkenpmradio-having-empathy-for-your-project-w-patrice-colancecco-embry-"
        "podcast.markdown:15: links to https://alexchiri.com/post/drunkenpmradio-having-empathy-for-your-"
        "project-w-patrice-colancecco-embry-podcast, which is not on the site",
        "content/blog/2018-04-23-three-great-books-to-start-the-year.markdown:29: links to "
        "https://alexchiri.com/the-vision/, which is not on the site",
    ]


# -- the same rule in the build: broken images and links in posts, as warnings --------------------------

def build_warnings(site: Path) -> list[str]:
    """What `broken_in_documents` says of the production build of `site`."""
    built = render_site(site, production_options(FIXED_NOW, jobs=1))
    return [w.format() for w in broken_in_documents(built.pages, built.static.keys() | built.rendered.keys(),
                                                      built.documents.values(), built.config)]


def test_the_build_warns_of_what_check_finds_in_posts(bundled_site: Path) -> None:
    assert build_warnings(bundled_site) == []
    body = "\n".join([
        "![a cat](/img/cat.jpg) ![seed](/img/2014/08/live_deployment_bitopia.jpg)",
        "[up](../../../nowhere/) [sibling](../../../../about/) [ext](https://example.com/x) [frag](#top)",
        "[abs-bad](https://bitopia.example.org/nope/) [no-slash](/about) [bare host](www.example.com/)",
    ])
    write_post(bundled_site, "mixed", body)
    assert build_warnings(bundled_site) == problems(bundled_site) == [
        "content/posts/mixed.md:6: shows the image /img/cat.jpg, which is not on the site — "
        "add the file under static/ or content/, or fix the path",
        "content/posts/mixed.md:7: links to ../../../nowhere/, which is not on the site — "
        "fix the link, or add the page it points to",
        "content/posts/mixed.md:8: links to https://bitopia.example.org/nope/, which is not on the site — "
        "fix the link, or add the page it points to",
        "content/posts/mixed.md:8: links to www.example.com/, which is not on the site — "
        "it reads as a path on this site; for another site write https://www.example.com/",
    ]


@pytest.mark.parametrize("html", [
    '<IMG SRC="/img/missing.png">',                                    # upper case
    "<a href=/nowhere/>unquoted</a>",
    '<img src="/about/" srcset="/img/a.jpg 1x, /img/b.jpg 2x">',        # a srcset
    '<a href="http://bitopia.example.org/gone/">the other scheme</a>',  # the site's host, another scheme
    '<a href="https://BITOPIA.example.org/gone/">the host in capitals</a>',
    '<a href="/gone/?a=1&amp;b=2">an entity</a>',
    '<base href="/nowhere/"><a href="x/">below a base</a>',
])
def test_the_quick_look_never_hides_what_check_finds(bundled_site: Path, html: str) -> None:
    write_post(bundled_site, "raw", f"Text.\n\n{html}\n")
    found = problems(bundled_site)
    assert found and build_warnings(bundled_site) == found


def test_a_drafts_broken_link_is_not_judged_and_a_bundles_own_image_resolves(bundled_site: Path) -> None:
    write_post(bundled_site, "secret", "[gone](/gone/)", draft="true")
    bundle = bundled_site / "content" / "posts" / "trip"
    bundle.mkdir()
    (bundle / "index.md").write_text("---\ntitle: Trip\ndate: 2015-03-01\n---\n\n![map](map.png) ![lost](lost.png)\n")
    (bundle / "map.png").write_bytes(b"png")
    assert build_warnings(bundled_site) == [
        "content/posts/trip/index.md:6: shows the image lost.png, which is not on the site — "
        "add the file under static/ or content/, or fix the path"]


def test_the_real_blogs_posts_warn_of_what_check_finds_there(real_blog: Path) -> None:
    assert build_warnings(real_blog) == problems(real_blog)
