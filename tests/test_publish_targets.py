"""Which targets `bitopia publish` (and `build -o`) refuse, and what publish may move or delete.

Publish never writes into the site's sources, --convert moves only an old output of `bitopia build`,
pruning deletes only the releases publish wrote, and a target is a local folder or git:BRANCH.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bitopia_site.cli import main
from tests.test_publish import do_publish, edition, snapshot


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_the_site_folder_and_its_parents_are_refused_even_with_convert(bundled_site: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(tmp_path)
    monkeypatch.chdir(bundled_site)
    for args in (["."], ["--convert", "."], ["--convert", str(tmp_path)], ["--dry-run", "."]):
        code, output = run("publish", *args)
        assert code == 1, (args, output)
        assert "would contain the site itself" in output and "--convert" not in output, output
        assert "nothing was published" in output and "Traceback" not in output
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("folder", ["content", "static", "templates", "themes"])
def test_publish_and_build_refuse_the_sites_sources(bundled_site: Path, folder: str) -> None:
    (bundled_site / folder).mkdir(exist_ok=True)
    before = snapshot(bundled_site)
    inside = bundled_site / folder / "blog"
    for command in (["publish", "-s", str(bundled_site), str(inside)],
                    ["publish", "-s", str(bundled_site), "--convert", str(bundled_site / folder)],
                    ["build", "-s", str(bundled_site), "-o", str(inside)],
                    ["build", "-s", str(bundled_site), "-o", str(bundled_site / folder)]):
        code, output = run(*command)
        assert code == 1, (command, output)
        assert f"would be inside {bundled_site / folder}, which every build reads" in output \
            or "would contain the site itself" in output, output
    assert snapshot(bundled_site) == before


def test_a_target_inside_the_site_but_outside_its_sources_is_allowed(bundled_site: Path) -> None:
    name, _ = do_publish(bundled_site, bundled_site / "public")
    assert os.readlink(bundled_site / "public") == f"public.releases/{name}"


def test_a_target_inside_a_build_output_is_refused(bundled_site: Path) -> None:
    assert run("build", "-s", str(bundled_site), "-j", "1")[0] == 0
    before = snapshot(bundled_site)
    code, output = run("publish", "-s", str(bundled_site), str(bundled_site / "output" / "blog"))
    assert code == 1
    assert (f"{bundled_site / 'output' / 'blog'}: is inside {bundled_site / 'output'}, an output folder of "
            "`bitopia build`, which the next build or `bitopia clean` replaces whole") in output, output
    assert snapshot(bundled_site) == before


def test_convert_moves_only_an_old_bitopia_output(bundled_site: Path, tmp_path: Path) -> None:
    target = tmp_path / "www" / "blog"
    (target / "notes").mkdir(parents=True)
    (target / "notes" / "keep.txt").write_text("precious")
    before = snapshot(tmp_path)
    code, output = run("publish", "-s", str(bundled_site), "--convert", str(target))
    assert code == 1
    assert f"{target}: is a folder bitopia did not make (it has no .bitopia-output), so publish will not move it" \
        in output
    assert snapshot(tmp_path) == before


def test_pruning_deletes_only_releases_publish_wrote(bundled_site: Path, tmp_path: Path) -> None:
    target = tmp_path / "www" / "blog"
    assert run("build", "-s", str(bundled_site), "-o", str(target), "-j", "1")[0] == 0  # an old output
    releases = tmp_path / "www" / "blog.releases"
    (releases / "0001-my-notes").mkdir(parents=True)  # looks like a release, but publish did not write it
    (releases / "0001-my-notes" / "keep.txt").write_text("precious")
    (releases / ".partial-0009-mine").mkdir()
    edition(bundled_site, 1)
    first, log = do_publish(bundled_site, target, convert=True, keep=1)
    converted = next(n for n in os.listdir(releases) if n.endswith("-converted"))
    edition(bundled_site, 2)
    second, log = do_publish(bundled_site, target, keep=1)
    edition(bundled_site, 3)
    third, log = do_publish(bundled_site, target, keep=1)
    assert sorted(os.listdir(releases)) == sorted([".history", ".lock", ".written", ".partial-0009-mine",
                                                   "0001-my-notes", converted, third])
    assert (releases / "0001-my-notes" / "keep.txt").read_text() == "precious"
    assert (releases / converted / ".bitopia-output").is_file()
    assert f"removed 1 old release: {second}" in log
    assert f"left 0001-my-notes, {converted} in blog.releases/: publish deletes only the releases it wrote" in log


@pytest.mark.parametrize("target", ["ssh://host/var/www/blog", "s3://bucket", "rsync://host/blog",
                                    "host:/var/www/blog", "deploy@host:blog", "git://github.com/me/blog"])
def test_a_target_that_is_no_local_folder_nor_git_branch_is_refused(bundled_site: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    target: str) -> None:
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    code, output = run("publish", "-s", str(bundled_site), target)
    assert code == 1
    scheme = target.split(":")[0]
    assert f"error: {target}: publish knows no `{scheme}:` targets; it writes to a local folder or a git branch — " \
           "write a folder (/var/www/blog, ./public) or git:BRANCH (git:gh-pages)" in output, output
    assert snapshot(tmp_path) == before

    with (bundled_site / "site.yaml").open("a") as config:
        config.write(f"publish: {target}\n")  # relative folders in the config are relative to the site
    before = snapshot(tmp_path)
    code, output = run("publish", "-s", str(bundled_site))
    assert code == 1 and f"publish knows no `{scheme}:` targets" in output
    assert snapshot(tmp_path) == before


def test_a_local_folder_with_a_colon_is_written_with_a_dot(bundled_site: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = run("publish", "-s", str(bundled_site), "-j", "1", "./odd:name")
    assert code == 0, output
    assert os.readlink(tmp_path / "odd:name").startswith("odd:name.releases/0001-")
