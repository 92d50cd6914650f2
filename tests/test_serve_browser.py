"""What a person sees in the browser while `bitopia serve` runs: every save shows up by itself."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from bitopia_site.build import BuildOptions
from bitopia_site.cli import main
from bitopia_site.incremental import SERVE_OPTIONS, live_builder
from bitopia_site.serve.server import DevServer
from conftest import wait_for

expect = pytest.importorskip("playwright.sync_api").expect

POST = "content/posts/2014-08-06-the-live-deployment-stories-from-bitopia.md"
POST_URL = "/2014/08/06/the-live-deployment-stories-from-bitopia/"
TITLE = "The Live Deployment (Stories from Bitopia)"
WAIT_MS = 8000


def edit(site: Path, rel: str, old: str, new: str) -> None:
    path = site / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def live(browser, bundled_site: Path) -> Iterator:
    """Start a dev server on the bundled site and a browser page; both are closed afterwards."""
    servers: list[DevServer] = []
    contexts = []

    def start(**kwargs):
        server = DevServer(bundled_site, live_builder(bundled_site, kwargs.pop("options", SERVE_OPTIONS)), port=0, **kwargs).start()
        servers.append(server)
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        return server, page

    yield start
    for context in contexts:
        context.close()
    for server in servers:
        server.close()


def open_page(server: DevServer, page, path: str, clients: int = 1) -> None:
    """Open `path` and wait until its live-reload script listens."""
    page.goto(server.url.rstrip("/") + path)
    assert wait_for(lambda: server.hub.clients >= clients, 5), "the page's EventSource did not connect"


def test_edit_error_recover_and_template_change_show_without_a_manual_reload(live, bundled_site: Path) -> None:
    server, page = live()
    open_page(server, page, POST_URL)
    expect(page).to_have_title(re.compile(re.escape(TITLE)))

    edit(bundled_site, POST, "It was a dark rainy night.", "It was a bright morning in Bitopia.")
    expect(page.locator("body")).to_contain_text("It was a bright morning in Bitopia.")

    edit(bundled_site, POST, f"title: {TITLE}", "title: The Live Deployment: (Stories from Bitopia)")
    expect(page.locator("body")).to_contain_text(f"{POST}:5")
    expect(page.locator("body")).to_contain_text("invalid YAML")
    expect(page.locator(".source .bad")).to_contain_text("title: The Live Deployment: (Stories from Bitopia)")

    edit(bundled_site, POST, "title: The Live Deployment: (Stories", "title: The Live Deployment (Stories")
    expect(page).to_have_title(re.compile(re.escape(TITLE)))
    expect(page.locator("body")).not_to_contain_text("did not build")

    changed = 0
    for template in (bundled_site / "themes").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if "</body>" in text:
            template.write_text(text.replace("</body>", '<p id="template-marker">Changed template</p>\n</body>'))
            changed += 1
    assert changed
    expect(page.locator("#template-marker")).to_have_text("Changed template")
    assert page.url.endswith(POST_URL)


def test_deleted_post_is_gone_and_a_new_post_appears(live, bundled_site: Path) -> None:
    server, page = live(options=BuildOptions(drafts=False, future=True))  # as `bitopia serve --no-drafts`
    open_page(server, page, "/")
    expect(page.locator("main")).to_contain_text(TITLE)

    (bundled_site / POST).unlink()
    expect(page.locator("main")).not_to_contain_text(TITLE)
    response = page.goto(server.url.rstrip("/") + POST_URL)
    assert response is not None and response.status == 404

    open_page(server, page, "/")
    builds = server.builds
    result = CliRunner().invoke(main, ["new", "post", "The Code Review (Stories from Bitopia)", "-s",
                                       str(bundled_site), "--series", "Stories from Bitopia"])
    assert result.exit_code == 0, result.output
    new_post = Path(result.output.splitlines()[0])  # named as the bundled site's posts are: with their date
    assert new_post.parent == bundled_site / "content" / "posts"
    assert new_post.name.endswith("-the-code-review-stories-from-bitopia.md")
    assert wait_for(lambda: server.builds > builds)
    expect(page.locator("main")).not_to_contain_text("The Code Review")  # still a draft
    edit(bundled_site, new_post.relative_to(bundled_site).as_posix(), "draft: true", "draft: false")
    link = page.locator("main a", has_text="The Code Review (Stories from Bitopia)").first
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href is not None and href.endswith("/the-code-review-stories-from-bitopia/")
    page.goto(server.url.rstrip("/") + href)
    expect(page).to_have_title(re.compile(re.escape("The Code Review (Stories from Bitopia)")))


def test_a_stylesheet_is_swapped_without_a_reload(live, bundled_site: Path) -> None:
    server, page = live()
    open_page(server, page, POST_URL)
    page.evaluate("window.__stillHere = true")
    css = next((bundled_site / "themes").rglob("*.css"))
    css.write_text(css.read_text(encoding="utf-8") + "\nbody { border-top: 7px solid rgb(255, 0, 0) !important; }\n")
    page.wait_for_function("getComputedStyle(document.body).borderTopWidth === '7px'", timeout=WAIT_MS)
    assert page.evaluate("window.__stillHere") is True


def test_navigate_takes_the_browser_to_the_edited_post(live, bundled_site: Path) -> None:
    server, page = live(navigate=True)
    open_page(server, page, "/archives/")
    edit(bundled_site, POST, "stray dogs", "stray cats")
    page.wait_for_url("**" + POST_URL, timeout=WAIT_MS)
    expect(page.locator("body")).to_contain_text("stray cats")


def test_a_new_post_appears_on_the_open_home_page_without_a_whole_build(live, bundled_site: Path) -> None:
    """A post written while the home page is open shows there by itself; the server adds it to the
    site it keeps in memory (only the new file read) and renders the open page first."""
    server, page = live()
    open_page(server, page, "/")
    updates = server.builder.updates
    post = bundled_site / "content/posts/2099-01-01-fresh-from-the-press.md"
    post.write_text("---\ntitle: Fresh From The Press\ndate: 2099-01-01\ntags: [press]\n---\nJust written.\n",
                    encoding="utf-8")
    expect(page.locator("main")).to_contain_text("Fresh From The Press")
    assert wait_for(lambda: not server.gate.busy, 30)
    assert server.builder.updates == updates + 1, "applied in memory, not by a whole build"
    post.unlink()
    expect(page.locator("main")).not_to_contain_text("Fresh From The Press")
