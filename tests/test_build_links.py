"""A build warns of the images and local links in posts that point at nothing (links.broken_in_documents)."""

from pathlib import Path

from click.testing import CliRunner

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
