"""A build warns of the images and local links in posts that point at nothing (links.broken_in_documents)."""

from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from bitopia_site import links
from bitopia_site.build import BuildOptions, build
from bitopia_site.cli import main
from conftest import FIXED_NOW
from test_check import write_post


def test_build_warns_of_a_misspelled_image_and_a_broken_link(bundled_site: Path, tmp_path: Path) -> None:
    write_post(bundled_site, "typo", "Text.\n\n![cat](/img/2014/08/live_deployment_bitopa.jpg)\n\n[old](/2014/01/01/gone/)")
    summary = build(bundled_site, tmp_path / "out", BuildOptions(now=FIXED_NOW, jobs=1))
    assert [w.format() for w in summary.warnings] == [
        "content/posts/typo.md:8: shows the image /img/2014/08/live_deployment_bitopa.jpg, which is not on the site — "
        "add the file under static/ or content/, or fix the path",
        "content/posts/typo.md:10: links to /2014/01/01/gone/, which is not on the site — "
        "fix the link, or add the page it points to"]
    result = CliRunner().invoke(main, ["build", "-s", str(bundled_site), "-o", str(tmp_path / "out2")])
    assert result.exit_code == 0 and result.output.splitlines()[-1].endswith("; 2 warnings")
    strict = CliRunner().invoke(main, ["build", "-s", str(bundled_site), "-o", str(tmp_path / "out3"), "--strict"])
    assert strict.exit_code == 1 and "live_deployment_bitopa.jpg" in strict.output


def test_check_names_a_broken_link_once(bundled_site: Path) -> None:
    write_post(bundled_site, "linking", "[gone](/gone/)")
    broken = CliRunner().invoke(main, ["check", "-s", str(bundled_site)])
    assert broken.exit_code == 1 and broken.output.count("links to /gone/") == 1


URL_PIECES = ["https://", "http://", "HTTPS://", "//", "/", "/base/", "example.com", "Example.COM", "other.org",
              ":8080", "a", "b", "é", "%20", "..", ".", "#x", "?q=1", ";p", "\\", "\t", "\n", " ", "mailto:", "x,y"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(URL_PIECES), max_size=8).map("".join), st.sampled_from(["/", "/base/"]))
def test_a_url_read_without_urljoin_points_where_urljoin_says(raw: str, base_path: str) -> None:
    """links._target's quick way (no urljoin for another host or a path from the root) against urljoin."""
    page_url = f"https://example.com{base_path}2014/08/post/"
    parts = urlsplit(urljoin(page_url, raw))
    expected = None
    if raw and not raw.startswith("#") and not links._SKIP_SCHEMES.match(raw) \
            and parts.scheme in ("http", "https") and parts.netloc.lower() == "example.com":
        target = unquote(parts.path)
        if target.startswith(base_path):
            expected = target[len(base_path):]
        elif target + "/" == base_path:
            expected = ""
    assert links._target(raw, page_url, "example.com", base_path) == expected


def _link_warnings(summary) -> list[str]:
    return [w.format() for w in summary.warnings if "which is not on the site" in w.message]


def test_a_rebuild_after_a_body_edit_warns_of_the_edited_posts_links(bundled_site: Path, tmp_path: Path) -> None:
    """The short way of `build` (patch.py) finds the links of an edited post as a whole build does,
    and keeps the warnings of the posts it did not read again."""
    out = tmp_path / "out"
    options = BuildOptions(now=FIXED_NOW, jobs=1)
    write_post(bundled_site, "typo", "Text.\n\n![cat](/img/2014/08/live_deployment_bitopa.jpg)")
    write_post(bundled_site, "other", "Fine.")
    first = _link_warnings(build(bundled_site, out, options))
    assert first == ["content/posts/typo.md:8: shows the image /img/2014/08/live_deployment_bitopa.jpg, which is "
                     "not on the site — add the file under static/ or content/, or fix the path"]
    write_post(bundled_site, "other", "Now with [a broken link](/nowhere/).")
    summary = build(bundled_site, out, options)
    assert summary.rendered < summary.pages / 2  # the short way, not a whole build
    assert _link_warnings(summary) == [
        "content/posts/other.md:6: links to /nowhere/, which is not on the site — fix the link, or add the page "
        "it points to", *first]
    write_post(bundled_site, "typo", "Fixed.\n\n![cat](/img/2014/08/live_deployment_bitopia.jpg)")
    assert _link_warnings(build(bundled_site, out, options)) == _link_warnings(summary)[:1]


def test_a_live_update_warns_of_the_edited_posts_links(bundled_site: Path, tmp_path: Path) -> None:
    """`serve`'s updates in memory (a body edit, a new post) warn of the edited post's broken links."""
    from bitopia_site.incremental import LiveBuild
    live = LiveBuild(bundled_site, tmp_path / "out", BuildOptions(now=FIXED_NOW, jobs=1, in_place=True))
    try:
        assert _link_warnings(live.build()) == []
        seed = next((bundled_site / "content" / "posts").glob("2014-08-06-*.md"))
        seed.write_text(seed.read_text() + "\n![oops](/img/nothing-here.png)\n")
        body_edit = live.update({seed.relative_to(bundled_site).as_posix(): seed})
        assert body_edit is not None and live.updates == 1
        assert [w.split(": ", 1)[1] for w in _link_warnings(body_edit)] == [
            "shows the image /img/nothing-here.png, which is not on the site — add the file under static/ or "
            "content/, or fix the path"]
        new = write_post(bundled_site, "brand-new", "See [this](/2099/01/01/missing/).")
        moved = live.update({"content/posts/brand-new.md": new})
        assert moved is not None and live.updates == 2
        assert [w.split(":", 1)[0] for w in _link_warnings(moved)] == ["content/posts/brand-new.md"]
    finally:
        live.close()
