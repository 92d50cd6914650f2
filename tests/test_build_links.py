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
