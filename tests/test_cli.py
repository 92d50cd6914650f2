"""The `bitopia` command never guesses: no site, no build; help when asked for nothing; counts in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bitopia_site.cli import main

SITE_COMMANDS = [["build"], ["serve", "-p", "0"], ["check"], ["publish", "target"], ["new", "post", "Hello"],
                 ["new", "page", "Hello"]]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("command", SITE_COMMANDS, ids=lambda command: " ".join(command[:2]))
def test_a_folder_without_a_site_is_an_error_that_says_what_a_site_needs(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "notes.txt").write_text("not a site")
    result = run(*command, "-s", str(tmp_path))
    assert result.exit_code == 1
    assert result.output == (
        f"error: {tmp_path}: holds no site: a site has a site.yaml, a Hugo config (hugo.toml, config.toml, "
        "config/_default/) or a content/ folder, and this folder has none of them — run the command in a site's "
        f"folder or pass one with -s; `bitopia new site {tmp_path}` starts one there\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # no output/, no cache, no content/


def test_build_in_an_empty_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("build")
    assert result.exit_code == 1 and "holds no site" in result.output and "bitopia new site ." in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", SITE_COMMANDS, ids=lambda command: " ".join(command[:2]))
def test_a_missing_site_folder_is_an_error_and_is_not_made(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    result = run(*command, "-s", str(missing))
    assert result.exit_code == 1
    assert result.output == (f"error: {missing}: no such folder — pass a site's folder with -s, or "
                             f"`bitopia new site {missing}` starts one there\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("files", [
    {"config/_default/hugo.toml": 'baseURL = "https://example.org/"\ntitle = "Folder"\n'},
    {"config/_default/params.yaml": "description: only params\n"},
    {"hugo.json": '{"baseURL": "https://example.org/", "title": "From JSON"}'},
    {"config.toml": 'baseURL = "https://example.org/"\n'},
    {"site.yaml": "title: Only a config\n"},
    {"content/posts/a.md": "---\ntitle: A\ndate: 2020-01-01\n---\nText.\n"},
], ids=["config-default", "config-default-params-only", "hugo-json", "config-toml", "site-yaml", "content-only"])
def test_every_kind_of_site_builds(tmp_path: Path, files: dict[str, str]) -> None:
    site = tmp_path / "site"
    for rel, text in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    result = run("build", "-s", str(site), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "index.html").is_file()


def test_bare_bitopia_prints_help_and_exits_0() -> None:
    result = run()
    assert result.exit_code == 0
    assert result.output.startswith("Usage: ") and "Commands:" in result.output
    assert result.output == run("--help").output
    new = run("new")
    assert new.exit_code == 0 and new.output == run("new", "--help").output


def test_the_help_shows_each_commands_description_in_full() -> None:
    listed = " ".join(run("--help").output.split())
    for command, description in [
        ("check", "Build for production in memory and check links, images and drafts; exit 1 on problems."),
        ("publish", "Build, check, and swap the whole site into TARGET (a folder, or git:BRANCH) at once."),
        ("serve", "Preview the site: build, serve, rebuild on every save and reload the browser."),
        ("new", "Start a new site, or a new post or page (a draft, dated now)."),
    ]:
        assert f"{command} {description}" in listed
    assert "..." not in listed.partition("Commands:")[2]
    new_listed = " ".join(run("new", "--help").output.split())
    assert "site Make a site in FOLDER (made if missing): a site.yaml and an empty content/posts/." in new_listed


def test_counts_are_written_in_english(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "site.yaml").write_text("title: One\ntaxonomies: [tags]\n")
    (site / "content" / "posts" / "only.md").write_text(
        "---\ntitle: Only\ndate: 2020-01-01\ntags: [solo]\nmood: fine\n---\nText.\n")
    result = run("build", "-s", str(site))
    assert result.exit_code == 0, result.output
    assert "unknown front-matter key `mood`" in result.output
    summary = result.output.splitlines()[-1]
    assert re.fullmatch(r"Built \d+ pages \(1 post, 1 term; \d+ rendered\) and \d+ static files in [\d.]+ s: "
                        r"\d+ written, 0 unchanged, 0 removed; 1 warning", summary), summary


def test_a_new_post_whose_date_changes_is_served_at_its_new_date(bundled_site: Path, tmp_path: Path) -> None:
    made = run("new", "post", "Moving Day", "-s", str(bundled_site))
    assert made.exit_code == 0, made.output
    path = Path(made.output.splitlines()[0])
    day = path.name[:10]
    assert path.parent == bundled_site / "content" / "posts" and path.name == f"{day}-moving-day.md"
    assert made.output.splitlines()[1] == (
        f"A draft: `bitopia serve` shows it at http://127.0.0.1:8000/{day.replace('-', '/')}/moving-day/; "
        "`bitopia build` leaves it out until you set `draft: false`.")
    text = path.read_text()
    assert "url:" not in text
    path.write_text(re.sub(r"date: \S+ \S+", "date: 2031-02-03 04:05:06+00:00", text))
    out = tmp_path / "out"  # what `serve` shows: drafts and future posts included
    built = run("build", "-s", str(bundled_site), "-o", str(out), "--drafts", "--future")
    assert built.exit_code == 0, built.output
    assert "Moving Day" in (out / "2031/02/03/moving-day/index.html").read_text()
    assert not (out / day.replace("-", "/") / "moving-day").exists()
