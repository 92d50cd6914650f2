"""`bitopia new post|page|site`: the front matter of the seed post without a frozen URL, a file named as the
site's posts are, that builds at the URL of its date, never an overwrite."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bitopia_site.build import BuildOptions, build
from bitopia_site.cli import main
from bitopia_site.errors import SiteError
from bitopia_site.scaffold import format_date, new_content, new_site, yaml_scalar

from conftest import FIXED_NOW

HELSINKI_EVENING = datetime(2024, 3, 5, 21, 7, 9, tzinfo=timezone(timedelta(hours=2)))


def test_new_post_has_the_seed_posts_front_matter(bundled_site: Path) -> None:
    made = new_content(bundled_site, "post", "The Code Review (Stories from Bitopia)",
                       series="Stories from Bitopia", now=HELSINKI_EVENING)
    # the bundled site's posts start with their date; its timezone is UTC: the date is given there
    assert made.path == bundled_site / "content" / "posts" / "2024-03-05-the-code-review-stories-from-bitopia.md"
    assert made.url == "/2024/03/05/the-code-review-stories-from-bitopia/"
    assert made.path.read_text() == """---
author: alexchiri
date: 2024-03-05 19:07:09+00:00
draft: true
title: The Code Review (Stories from Bitopia)
type: post
categories: []
tags: []
series:
- Stories from Bitopia
featuredpath: date
---

Write here. The text before `<!--more-->` is the summary.
"""


def test_the_date_keeps_the_sites_offset(bundled_site: Path) -> None:
    config = bundled_site / "site.yaml"
    config.write_text(config.read_text().replace("timezone: UTC", "timezone: Europe/Helsinki"))
    made = new_content(bundled_site, "post", "Late Night", now=HELSINKI_EVENING.astimezone(timezone.utc))
    meta = yaml.safe_load(made.path.read_text().split("---")[1])
    assert "date: 2024-03-05 21:07:09+02:00\n" in made.path.read_text()
    assert made.path.name == "2024-03-05-late-night.md" and made.url == "/2024/03/05/late-night/"
    assert "url" not in meta and "series" not in meta


def test_a_new_post_builds_as_a_draft(bundled_site: Path, tmp_path: Path) -> None:
    path = new_content(bundled_site, "post", "Deploy: the night of 100% uptime", now=FIXED_NOW).path
    assert 'title: "Deploy: the night of 100% uptime"' in path.read_text()
    out = tmp_path / "out"
    build(bundled_site, out, BuildOptions(now=FIXED_NOW + timedelta(minutes=1)))
    assert not (out / "2026/01/01/deploy-the-night-of-100-uptime/index.html").exists()
    build(bundled_site, out, BuildOptions(drafts=True, now=FIXED_NOW + timedelta(minutes=1)))
    page = (out / "2026/01/01/deploy-the-night-of-100-uptime/index.html").read_text()
    assert "Deploy: the night of 100% uptime" in page


def test_new_page(bundled_site: Path) -> None:
    made = new_content(bundled_site, "page", "Colophon", now=FIXED_NOW)
    assert made.path == bundled_site / "content" / "pages" / "colophon.md" and made.url == "/colophon/"
    meta = yaml.safe_load(made.path.read_text().split("---")[1])
    assert meta == {"author": "alexchiri", "date": meta["date"], "draft": True, "title": "Colophon", "type": "page"}


def test_never_overwrites(bundled_site: Path) -> None:
    first = new_content(bundled_site, "post", "Twice", now=FIXED_NOW).path
    first.write_text("my words")
    with pytest.raises(SiteError) as err:
        new_content(bundled_site, "post", "Twice", now=FIXED_NOW)
    assert err.value.format() == ("content/posts/2026-01-01-twice.md: already exists; nothing was written — "
                                  "choose another title, or edit that file")
    assert first.read_text() == "my words"


def test_a_title_without_letters_is_refused(bundled_site: Path) -> None:
    with pytest.raises(SiteError, match="makes an empty slug"):
        new_content(bundled_site, "post", "?!", now=FIXED_NOW)


def test_yaml_scalars_and_dates() -> None:
    assert yaml_scalar("Plain Title (Part 1)") == "Plain Title (Part 1)"
    for tricky in ("Deploy: the night", "yes", "2014-08-06", "#hashtag", "- dash", "[x]", "null", "'quoted'", "a\nb"):
        assert yaml.safe_load(f"title: {yaml_scalar(tricky)}") == {"title": tricky}
    assert format_date(datetime(2014, 8, 6, 17, 37, 19, 123, tzinfo=timezone.utc)) == "2014-08-06 17:37:19+00:00"


def test_a_post_whose_date_changes_moves_to_the_url_of_its_new_date(bundled_site: Path, tmp_path: Path) -> None:
    made = new_content(bundled_site, "post", "Moving Day", now=FIXED_NOW)
    text = made.path.read_text()
    made.path.write_text(text.replace("date: 2026-01-01 00:00:00+00:00", "date: 2026-03-04 10:00:00+00:00"))
    out = tmp_path / "out"
    build(bundled_site, out, BuildOptions(drafts=True, future=True, now=FIXED_NOW))
    assert (out / "2026/03/04/moving-day/index.html").is_file()
    assert not (out / "2026/01/01/moving-day").exists()


def write(site: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    return site


POST = "---\ntitle: Old\ndate: 2020-01-01\n---\nText.\n"


@pytest.mark.parametrize(("files", "expected"), [
    ({"site.yaml": "title: T\n", "content/posts/a.md": POST, "content/posts/2020-01-02-b.md": POST,
      "content/posts/c.md": POST}, "content/posts/moving-day.md"),  # most posts have no date prefix
    ({"site.yaml": "title: T\n"}, "content/posts/moving-day.md"),  # no posts yet
    ({"config.toml": 'baseURL = "https://example.org/"\n', "content/about.md": POST,
      "content/blog/2020-01-01-a.markdown": POST, "content/blog/2020-02-01-b.markdown": POST},
     "content/blog/2026-01-01-moving-day.markdown"),  # a Hugo site's posts folder and extension
    ({"hugo.toml": 'baseURL = "https://example.org/"\n[params]\nmainSections = ["notes"]\n',
      "content/notes/a/index.md": POST, "content/notes/b/index.md": POST, "content/misc/x.md": POST,
      "content/misc/y.md": POST, "content/misc/z.md": POST}, "content/notes/moving-day/index.md"),  # bundles
])
def test_a_new_post_is_named_as_the_sites_posts_are(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    site = write(tmp_path / "site", files)
    made = new_content(site, "post", "Moving Day", now=FIXED_NOW)
    assert made.path == site / expected


def test_a_hugo_posts_url_is_the_one_hugo_gives_it(tmp_path: Path) -> None:
    site = write(tmp_path / "site", {"hugo.toml": 'baseURL = "https://example.org/"\n[permalinks]\nposts = "/:year/:slug/"\n',
                                     "content/posts/a.md": POST})
    assert new_content(site, "post", "Moving Day", now=FIXED_NOW).url == "/2026/moving-day/"
    plain = write(tmp_path / "plain", {"hugo.toml": 'baseURL = "https://example.org/"\n', "content/posts/a.md": POST})
    assert new_content(plain, "post", "Moving Day", now=FIXED_NOW).url == "/posts/moving-day/"


def test_new_site_makes_a_site_that_builds_and_refuses_an_existing_one(tmp_path: Path) -> None:
    config = new_site(tmp_path / "my-notes")
    assert config == tmp_path / "my-notes" / "site.yaml"
    assert yaml.safe_load(config.read_text()) == {"title": "My notes", "base_url": "http://localhost/", "author": "",
                                                  "timezone": "UTC", "search": True}
    made = new_content(tmp_path / "my-notes", "post", "First", now=FIXED_NOW)
    assert made.path == tmp_path / "my-notes" / "content" / "posts" / "first.md"
    summary = build(tmp_path / "my-notes", tmp_path / "out", BuildOptions(drafts=True, now=FIXED_NOW))
    assert summary.posts == 1 and (tmp_path / "out" / made.url.strip("/") / "index.html").is_file()
    with pytest.raises(SiteError, match="holds a site already"):
        new_site(tmp_path / "my-notes")
    assert config.read_text().startswith("title: My notes\n")


def test_cli(bundled_site: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["new", "post", "The Code Review (Stories from Bitopia)", "-s", str(bundled_site),
                                  "--series", "Stories from Bitopia"])
    assert result.exit_code == 0
    path = next((bundled_site / "content" / "posts").glob("*-the-code-review-stories-from-bitopia.md"))
    url = "/" + path.name[:10].replace("-", "/") + "/the-code-review-stories-from-bitopia/"
    assert result.output == (f"{path}\nA draft: `bitopia serve` shows it at http://127.0.0.1:8000{url}; "
                             "`bitopia build` leaves it out until you set `draft: false`.\n")
    meta = yaml.safe_load(path.read_text().split("---")[1])
    assert meta["series"] == ["Stories from Bitopia"] and meta["draft"] is True and meta["type"] == "post"
    again = runner.invoke(main, ["new", "post", "The Code Review (Stories from Bitopia)", "-s", str(bundled_site)])
    assert again.exit_code == 1 and "already exists" in again.output and "Traceback" not in again.output
    page = runner.invoke(main, ["new", "page", "About the Author", "-s", str(bundled_site)])
    assert page.exit_code == 0 and page.output.splitlines()[0].endswith("content/pages/about-the-author.md")


def test_cli_new_site_then_a_post(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "blog"
    made = runner.invoke(main, ["new", "site", str(folder)])
    assert made.exit_code == 0 and made.output.startswith(f"{folder / 'site.yaml'}\nA new site:")
    assert runner.invoke(main, ["new", "post", "Hello", "-s", str(folder)]).exit_code == 0
    again = runner.invoke(main, ["new", "site", str(folder)])
    assert again.exit_code == 1 and "holds a site already" in again.output


def test_cli_new_post_needs_a_site(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new", "post", "Hello", "-s", str(tmp_path)])
    assert result.exit_code == 1 and "holds no site" in result.output
    assert list(tmp_path.iterdir()) == []
