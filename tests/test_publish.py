"""`bitopia publish` to a folder: releases beside the target, one symlink rename, rollback, dry run.

The tests with a real nginx and concurrent readers are in test_publish_nginx.py; the git target is
in test_publish_git.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bitopia_site.build import add_search_index, render_site
from bitopia_site.check import production_options
from bitopia_site.cli import main
from bitopia_site.errors import BuildFailed, SiteError
from bitopia_site.publish import FolderTarget, build_id_of, publish, rollback, unstamp
from tests.conftest import FIXED_NOW

RELEASE_NAME = re.compile(r"^\d{4}-\d{8}T\d{6}Z-[0-9a-f]{8}$")


class Log(list):
    def __call__(self, line: str) -> None:
        assert "\n" not in line, line
        self.append(line)


def snapshot(folder: Path) -> dict[str, object]:
    """Everything below `folder`: links by target, files by bytes, folders by presence."""
    found: dict[str, object] = {}
    for dirpath, dirnames, names in os.walk(folder):
        for name in dirnames + names:
            path = Path(dirpath) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = path.read_bytes()
    return found


def edition(site: Path, number: int) -> None:
    """Make the site's content differ from other editions (so each publish is a new build)."""
    about = site / "content" / "pages" / "about.md"
    text = re.sub(r"\n\nEdition \d+\.\n$", "\n", about.read_text())
    about.write_text(text.rstrip("\n") + f"\n\nEdition {number}.\n")


def do_publish(site: Path, target: Path, **kwargs: object) -> tuple[str, Log]:
    log = Log()
    result = publish(site, str(target), log, now=FIXED_NOW, jobs=1, **kwargs)  # type: ignore[arg-type]
    assert result.live is not None
    return result.live, log


@pytest.fixture
def target(tmp_path: Path) -> Path:
    (tmp_path / "www").mkdir()
    return tmp_path / "www" / "blog"


def test_first_publish_makes_a_release_and_a_relative_symlink(bundled_site: Path, target: Path) -> None:
    name, log = do_publish(bundled_site, target)
    assert RELEASE_NAME.match(name) and name.startswith("0001-")
    assert os.readlink(target) == f"blog.releases/{name}"
    assert sorted(os.listdir(target.parent / "blog.releases")) == [".history", ".lock", ".written", name]
    assert (target.parent / "blog.releases" / ".written").read_text() == f"{name}\n"
    assert (target.parent / "blog.releases" / ".history").read_text().split()[-1] == name
    expected = render_site(bundled_site, production_options(FIXED_NOW, 1))
    add_search_index(expected, production_options(FIXED_NOW, 1), bundled_site / ".bitopia-cache" / "search")
    served = {p: (target / p).read_bytes() for p in expected.rendered}
    for path, data in expected.rendered.items():
        if path.endswith(".html"):
            assert build_id_of(served[path]) == name, path
            assert served[path].count(b'name="bitopia-build"') == 1
        assert unstamp(served[path]) == data, path
    for path, source in expected.static.items():
        assert (target / path).read_bytes() == source.read_bytes()
    files = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    assert files == set(expected.rendered) | set(expected.static)
    assert log[0].startswith("building ") and log[-1] == f"live: {name} ({target} -> blog.releases/{name})"
    assert any(line.startswith("checked ") and line.endswith("no problems") for line in log)


def test_publishing_the_same_site_again_changes_nothing(bundled_site: Path, target: Path) -> None:
    first, _ = do_publish(bundled_site, target)
    before = snapshot(target.parent)
    second, log = do_publish(bundled_site, target)
    assert second == first
    assert snapshot(target.parent) == before
    assert f"nothing to publish: the live release {first} holds exactly this build" in log


def test_keeps_five_releases_and_rolls_back_one_at_a_time(bundled_site: Path, target: Path) -> None:
    names = []
    for number in range(7):
        edition(bundled_site, number)
        names.append(do_publish(bundled_site, target)[0])
    releases = target.parent / "blog.releases"
    assert [int(n[:4]) for n in names] == list(range(1, 8))
    assert sorted(n for n in os.listdir(releases) if not n.startswith(".")) == names[-5:]
    assert b"Edition 6." in (target / "about" / "index.html").read_bytes()

    log = Log()
    assert rollback(bundled_site, str(target), log).live == names[5]
    assert os.readlink(target) == f"blog.releases/{names[5]}"
    assert b"Edition 5." in (target / "about" / "index.html").read_bytes()
    assert (releases / f"{names[6]}.rolled-back").is_dir()
    assert log[-1] == f"live: {names[5]} ({target} -> blog.releases/{names[5]})"
    assert rollback(bundled_site, str(target), Log()).live == names[4]
    assert b"Edition 4." in (target / "about" / "index.html").read_bytes()

    # A new publish comes after every release so far, and the rolled-back ones go.
    edition(bundled_site, 7)
    newest, log = do_publish(bundled_site, target)
    assert newest.startswith("0008-")
    left = sorted(n for n in os.listdir(releases) if not n.startswith("."))
    assert left == [names[2], names[3], names[4], newest]
    assert any("rolled-back" in line and line.startswith("removed 2 old releases") for line in log)
    assert rollback(bundled_site, str(target), Log()).live == names[4]  # the release live before it


def test_rollback_needs_an_earlier_release(bundled_site: Path, target: Path) -> None:
    do_publish(bundled_site, target)
    with pytest.raises(SiteError, match="is the oldest one kept"):
        rollback(bundled_site, str(target), Log())
    with pytest.raises(SiteError, match="is not a release made by bitopia publish"):
        rollback(bundled_site, str(target.parent / "elsewhere"), Log())


def test_dry_run_lists_added_changed_and_removed_files_and_changes_nothing(bundled_site: Path,
                                                                           target: Path) -> None:
    do_publish(bundled_site, target)
    before = snapshot(target.parent)
    post = next((bundled_site / "content" / "posts").glob("2014-09-14-*.md"))
    post.write_text(post.read_text().replace("Two weeks after", "Three weeks after", 1))
    (bundled_site / "content" / "pages" / "about.md").rename(bundled_site / "content" / "pages" / "team.md")
    about = bundled_site / "content" / "pages" / "team.md"
    about.write_text(about.read_text().replace("url: /about/", "url: /team/").replace("title: About", "title: Team"))
    config = bundled_site / "site.yaml"
    config.write_text(config.read_text().replace("url: /about/", "url: /team/"))
    log = Log()
    result = publish(bundled_site, str(target), log, dry_run=True, now=FIXED_NOW, jobs=1)
    assert result.live is None and result.changes is not None
    pages_added = [p for p in result.changes.added if not p.startswith("pagefind/")]
    pages_removed = [p for p in result.changes.removed if not p.startswith("pagefind/")]
    assert pages_added == ["team/index.html"] and pages_removed == ["about/index.html"]
    assert any(p.startswith("pagefind/fragment/") for p in result.changes.added)  # the search index follows
    # The post itself, lists showing its summary, feeds; and every page (the menu links to /team/ now).
    assert "2014/09/14/the-cache-review-stories-from-bitopia/index.html" in result.changes.changed
    assert "sitemap.xml" in result.changes.changed
    assert "css/bitopia.css" not in result.changes.changed and "robots.txt" not in result.changes.changed
    assert "  + team/index.html" in log and "  - about/index.html" in log
    assert log[-1].startswith(f"dry run: publishing to {target} -> blog.releases/0001-")
    assert log[-1].endswith("; nothing was changed")
    changes = result.changes
    assert (f"add {len(changes.added)}, change {len(changes.changed)} and remove {len(changes.removed)} files"
            in log[-1])
    assert snapshot(target.parent) == before


def test_an_old_build_output_is_converted_only_when_asked(bundled_site: Path, target: Path) -> None:
    assert CliRunner().invoke(main, ["build", "-s", str(bundled_site), "-o", str(target), "-j", "1"]).exit_code == 0
    (target / "old-notes").mkdir()
    (target / "old-notes" / "keep.txt").write_text("precious")
    old_home = (target / "index.html").read_bytes()
    before = snapshot(target.parent)
    with pytest.raises(SiteError) as refused:
        do_publish(bundled_site, target)
    assert "is a plain folder" in refused.value.message and "--convert" in refused.value.hint
    assert snapshot(target.parent) == before

    name, log = do_publish(bundled_site, target, convert=True)
    assert name.startswith("0002-")
    assert os.readlink(target) == f"blog.releases/{name}"
    releases = target.parent / "blog.releases"
    old = next(n for n in os.listdir(releases) if n.endswith("-converted"))
    assert old.startswith("0001-")
    assert (releases / old / "old-notes" / "keep.txt").read_text() == "precious"
    assert any(line.startswith(f"converted {target}: the old folder is kept as release {old}") for line in log)
    assert rollback(bundled_site, str(target), Log()).live == old
    assert (target / "index.html").read_bytes() == old_home


def test_someone_elses_symlink_is_refused(bundled_site: Path, target: Path) -> None:
    elsewhere = target.parent / "site-v1"
    elsewhere.mkdir()
    target.symlink_to(elsewhere)
    with pytest.raises(SiteError, match="is a symlink to"):
        do_publish(bundled_site, target)
    name, _ = do_publish(bundled_site, target, convert=True)
    assert os.readlink(target) == f"blog.releases/{name}" and elsewhere.is_dir()


@pytest.mark.parametrize("breakage", ["invalid yaml", "broken link"])
def test_a_broken_site_publishes_nothing(bundled_site: Path, target: Path, breakage: str) -> None:
    first, _ = do_publish(bundled_site, target)
    before = snapshot(target.parent)
    post = bundled_site / "content" / "posts" / "broken.md"
    if breakage == "invalid yaml":
        post.write_text("---\ntitle: [unclosed\ndate: 2015-01-01\n---\nText.\n")
    else:
        post.write_text("---\ntitle: Broken\ndate: 2015-01-01\n---\nSee [this](/2014/01/01/nowhere/).\n")
    with pytest.raises(BuildFailed) as failed:
        do_publish(bundled_site, target)
    assert [e.path for e in failed.value.errors] == ["content/posts/broken.md"]
    assert snapshot(target.parent) == before

    result = CliRunner().invoke(main, ["publish", "-s", str(bundled_site), str(target)])
    assert result.exit_code == 1
    assert "error: content/posts/broken.md:" in result.output
    assert f"1 problem; nothing was published; {target} is as it was." in result.output
    assert result.output.splitlines()[-1] == f"live: {first} ({target} -> blog.releases/{first}), as before"
    assert snapshot(target.parent) == before


def test_leftovers_of_an_interrupted_publish_are_removed(bundled_site: Path, target: Path) -> None:
    first, _ = do_publish(bundled_site, target)
    releases = target.parent / "blog.releases"
    (releases / ".partial-0002-20260101T000000Z-deadbeef" / "css").mkdir(parents=True)
    (releases / "0003-20260101T000000Z-deadbeef").mkdir()  # complete, but the link never moved to it
    with (releases / ".written").open("a") as written:  # as publish notes each release before writing it
        written.write("0002-20260101T000000Z-deadbeef\n0003-20260101T000000Z-deadbeef\n")
    (target.parent / ".blog.bitopia-link").symlink_to("blog.releases/0003-20260101T000000Z-deadbeef")
    edition(bundled_site, 1)
    name, log = do_publish(bundled_site, target)
    assert name.startswith("0002-")  # numbers of releases that never went live are free again
    assert sorted(n for n in os.listdir(releases) if not n.startswith(".")) == [first, name]
    assert not os.path.lexists(target.parent / ".blog.bitopia-link")
    assert "removed the partial release .partial-0002-20260101T000000Z-deadbeef, left by an interrupted publish" in log
    assert "removed the release 0003-20260101T000000Z-deadbeef, which never went live (an interrupted publish)" in log


def test_unchanged_static_files_are_hard_links_to_the_live_release(bundled_site: Path, target: Path) -> None:
    first, _ = do_publish(bundled_site, target)
    edition(bundled_site, 2)
    second, log = do_publish(bundled_site, target)
    releases = target.parent / "blog.releases"
    image = "img/2014/08/live_deployment_bitopia.jpg"
    assert (releases / first / image).stat().st_ino == (releases / second / image).stat().st_ino
    assert (releases / first / "index.html").stat().st_ino != (releases / second / "index.html").stat().st_ino
    assert any("unchanged static files hard-linked from" in line for line in log)


def test_a_static_file_changed_in_place_is_published_anew(bundled_site: Path, target: Path) -> None:
    """A static file rewritten with its old size and modification time (as `cp -p`, `rsync -t` or `tar`
    leave it) is copied into the next release, not linked from the live one."""
    do_publish(bundled_site, target)
    css = bundled_site / "themes/bitopia/static/css/bitopia.css"
    old = css.stat()
    data = css.read_bytes()
    css.write_bytes(data.replace(b"}", b";", 1))  # the same size
    os.utime(css, ns=(old.st_atime_ns, old.st_mtime_ns))
    do_publish(bundled_site, target)
    assert (target / "css/bitopia.css").read_bytes() == css.read_bytes() != data


def test_the_cli_reads_the_target_from_site_yaml_and_says_what_is_live(bundled_site: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["publish", "-s", str(bundled_site)])
    assert missing.exit_code == 1 and "no publish target was given" in missing.output
    with (bundled_site / "site.yaml").open("a") as config:
        config.write("publish: ../www/blog\n")
    result = runner.invoke(main, ["publish", "-s", str(bundled_site)])
    assert result.exit_code == 0, result.output
    target = bundled_site.parent / "www" / "blog"
    name = os.readlink(target).split("/")[-1]
    assert result.output.splitlines()[-1] == f"live: {name} ({target} -> blog.releases/{name})"
    rolled = runner.invoke(main, ["publish", "-s", str(bundled_site), "--rollback"])
    assert rolled.exit_code == 1 and "is the oldest one kept" in rolled.output
    remote = runner.invoke(main, ["publish", "-s", str(bundled_site), "--remote", "origin"])
    assert remote.exit_code == 1 and "--remote is for git targets" in remote.output


def test_a_release_that_cannot_be_written_leaves_the_live_one(bundled_site: Path, target: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = do_publish(bundled_site, target)
    before = snapshot(target.parent)
    edition(bundled_site, 3)

    def full(self: Path, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(SiteError, match="cannot write the release: No space left on device"):
        do_publish(bundled_site, target)
    monkeypatch.undo()
    assert snapshot(target.parent) == before
    assert FolderTarget(target, Log()).live() == first


def test_releases_that_were_live_survive_a_hand_made_rollback(bundled_site: Path, target: Path) -> None:
    first, _ = do_publish(bundled_site, target)
    edition(bundled_site, 1)
    second, _ = do_publish(bundled_site, target)
    os.symlink(f"blog.releases/{first}", target.parent / "hand-made")
    os.replace(target.parent / "hand-made", target)  # what `ln -sfn` does
    edition(bundled_site, 2)
    third, log = do_publish(bundled_site, target)
    assert third.startswith("0003-")
    assert sorted(n for n in os.listdir(target.parent / "blog.releases") if not n.startswith(".")) == [
        first, second, third]
    assert not any("never went live" in line for line in log)
