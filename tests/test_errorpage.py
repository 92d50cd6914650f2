"""The dev server's error page: each error once, however many pages it broke, and dark in dark mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bitopia_site.build import BuildOptions, build
from bitopia_site.errors import BuildFailed, SiteError
from bitopia_site.serve.errorpage import distinct, render_error_page
from conftest import FIXED_NOW

SCRIPT = "<script>/* live reload */</script>"


def _errors_of(site: Path) -> list[SiteError]:
    with pytest.raises(BuildFailed) as failed:
        build(site, site / "output", BuildOptions(now=FIXED_NOW))
    return failed.value.errors


def _broken_post_template(site: Path, body: str) -> Path:
    (site / "templates").mkdir()
    (site / "templates" / "post.html").write_text('{% extends "bitopia/post.html" %}\n' + body, encoding="utf-8")
    return site


def test_a_template_error_on_every_post_is_shown_once_naming_the_pages(bundled_site: Path) -> None:
    site = _broken_post_template(bundled_site, "{% block content %}{{ page.nosuch.call() }}{% endblock %}\n")
    errors = _errors_of(site)
    assert len(errors) == 3  # the build reports it once per post
    page = render_error_page(errors, site, SCRIPT).decode()
    assert page.count('<section class="error">') == 1 and "1 error." in page
    assert page.count("templates/post.html:2") == 1
    assert "On 3 pages:" in page and "/2014/08/06/the-live-deployment-stories-from-bitopia/" in page
    assert "while rendering" not in page and "has no attribute" in page


def test_a_syntax_error_reported_for_every_page_is_shown_once(bundled_site: Path) -> None:
    site = _broken_post_template(bundled_site, "{% block content %}{{ page.title }{% endblock %}\n")
    errors = _errors_of(site)
    assert len(errors) == 3 and len({e.format() for e in errors}) == 1
    page = render_error_page(errors, site, SCRIPT).decode()
    assert page.count('<section class="error">') == 1 and "1 error." in page and "On " not in page


def test_different_errors_stay_apart_in_their_order() -> None:
    errors = [SiteError("a.md", "bad date", line=2), SiteError("b.md", "bad date", line=2),
              SiteError("a.md", "bad date", line=3), SiteError("a.md", "bad date", line=2)]
    assert [(s.error.path, s.error.line) for s in distinct(errors)] == [("a.md", 2), ("b.md", 2), ("a.md", 3)]


def test_the_error_page_follows_dark_mode_and_the_readers_choice(browser: Any, tmp_path: Path) -> None:
    page_file = tmp_path / "error.html"
    page_file.write_bytes(render_error_page([SiteError("content/a.md", "bad", "fix it", 1)], tmp_path, ""))
    background = "getComputedStyle(document.body).backgroundColor"
    seen = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        try:
            page = context.new_page()
            page.goto(page_file.as_uri())
            seen[scheme] = (page.evaluate(background),
                            page.eval_on_selector(".error", "e => getComputedStyle(e).backgroundColor"))
        finally:
            context.close()
    assert seen == {"light": ("rgb(251, 243, 242)", "rgb(255, 255, 255)"),
                    "dark": ("rgb(26, 20, 20)", "rgb(36, 32, 32)")}
