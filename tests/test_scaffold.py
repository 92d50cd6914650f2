"""`bitopia new post|page`: the front matter of the seed post, a file that builds, never an overwrite."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bitopia_site.build import BuildOptions, build
from bitopia_site.cli import main
from bitopia_site.errors import SiteError
from bitopia_site.scaffold import format_date, new_content, yaml_scalar

from conftest import FIXED_NOW

HELSINKI_EVENING = datetime(2024, 3, 5, 21, 7, 9, tzinfo=timezone(timedelta(hours=2)))


def test_new_post_has_the_seed_posts_front_matter(bundled_site: Path) -> None:
    path = new_content(bundled_site, "post", "The Code Review (Stories from Bitopia)",
                       series="Stories from Bitopia", now=HELSINKI_EVENING)
    assert path == bundled_site / "content" / "posts" / "the-code-review-stories-from-bitopia.md"
    # the bundled site's timezone is UTC: the date is given there, with its offset
    assert path.read_text() == """---
author: alexchiri
date: 2024-03-05 19:07:09+00:00
draft: true
title: The Code Review (Stories from Bitopia)
type: post
url: /2024/03/05/the-code-review-stories-from-bitopia/
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
    path = new_content(bundled_site, "post", "Late Night", now=HELSINKI_EVENING.astimezone(timezone.utc))
    meta = yaml.safe_load(path.read_text().split("---")[1])
    assert "date: 2024-03-05 21:07:09+02:00\n" in path.read_text()
    assert meta["url"] == "/2024/03/05/late-night/" and "series" not in meta


def test_a_new_post_builds_as_a_draft(bundled_site: Path, tmp_path: Path) -> None:
    path = new_content(bundled_site, "post", "Deploy: the night of 100% uptime", now=FIXED_NOW)
    assert 'title: "Deploy: the night of 100% uptime"' in path.read_text()
    out = tmp_path / "out"
    build(bundled_site, out, BuildOptions(now=FIXED_NOW + timedelta(minutes=1)))
    assert not (out / "2026/01/01/deploy-the-night-of-100-uptime/index.html").exists()
    build(bundled_site, out, BuildOptions(drafts=True, now=FIXED_NOW + timedelta(minutes=1)))
    page = (out / "2026/01/01/deploy-the-night-of-100-uptime/index.html").read_text()
    assert "Deploy: the night of 100% uptime" in page


def test_new_page(bundled_site: Path) -> None:
    path = new_content(bundled_site, "page", "Colophon", now=FIXED_NOW)
    assert path == bundled_site / "content" / "pages" / "colophon.md"
    meta = yaml.safe_load(path.read_text().split("---")[1])
    assert meta == {"author": "alexchiri", "date": meta["date"], "draft": True, "title": "Colophon", "type": "page",
                    "url": "/colophon/"}


def test_never_overwrites(bundled_site: Path) -> None:
    first = new_content(bundled_site, "post", "Twice", now=FIXED_NOW)
    first.write_text("my words")
    with pytest.raises(SiteError) as err:
        new_content(bundled_site, "post", "Twice", now=FIXED_NOW)
    assert err.value.format() == ("content/posts/twice.md: already exists; nothing was written — "
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


def test_cli(bundled_site: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["new", "post", "The Code Review (Stories from Bitopia)", "-s", str(bundled_site),
                                  "--series", "Stories from Bitopia"])
    assert result.exit_code == 0
    path = bundled_site / "content" / "posts" / "the-code-review-stories-from-bitopia.md"
    assert result.output == f"{path}\n"
    meta = yaml.safe_load(path.read_text().split("---")[1])
    assert meta["series"] == ["Stories from Bitopia"] and meta["draft"] is True and meta["type"] == "post"
    again = runner.invoke(main, ["new", "post", "The Code Review (Stories from Bitopia)", "-s", str(bundled_site)])
    assert again.exit_code == 1 and "already exists" in again.output and "Traceback" not in again.output
    page = runner.invoke(main, ["new", "page", "About the Author", "-s", str(bundled_site)])
    assert page.exit_code == 0 and page.output.strip().endswith("content/pages/about-the-author.md")
