"""The watcher: sorting file events into kinds (pure), debouncing, and one rebuild per burst."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from watchdog.events import DirCreatedEvent, DirModifiedEvent, FileClosedNoWriteEvent, FileModifiedEvent, FileMovedEvent

from bitopia_site.incremental import live_builder
from bitopia_site.serve.server import DevServer
from bitopia_site.serve.watcher import (Changes, Debouncer, Kind, SiteLayout, SiteWatcher, changes_from_event, classify,
                                        is_temp_file, static_url)
from conftest import wait_for


@pytest.mark.parametrize(("rel", "kind"), [
    ("content/posts/2014-08-06-x.md", Kind.CONTENT),
    ("content/posts/deep/er/x.markdown", Kind.CONTENT),
    ("content/pages/ABOUT.MD", Kind.CONTENT),
    ("content/img/2014/08/a.jpg", Kind.STATIC),
    ("content/posts/notes.css", Kind.STATIC),
    ("templates/post.html", Kind.TEMPLATE),
    ("templates/partials/card.html", Kind.TEMPLATE),
    ("themes/bitopia/templates/base.html", Kind.THEME),
    ("themes/bitopia/theme.yaml", Kind.THEME),
    ("themes/bitopia/static/css/bitopia.css", Kind.STATIC),
    ("static/favicon.ico", Kind.STATIC),
    ("static/.well-known/security.txt", Kind.STATIC),  # the dotfiles static/ publishes
    ("static/.htaccess", Kind.STATIC),
    ("static/.env", Kind.IGNORED),
    ("static/.x.css.swp", Kind.IGNORED),
    ("content/.well-known/x.txt", Kind.IGNORED),
    ("site.yaml", Kind.CONFIG),
    ("hugo.toml", Kind.CONFIG),
    ("config.yaml", Kind.CONFIG),
    # ignored: output and serve folders, caches, VCS, editor temp files, unrelated files
    ("output/index.html", Kind.IGNORED),
    ("public/index.html", Kind.IGNORED),
    (".bitopia-cache/serve/index.html", Kind.IGNORED),
    (".bitopia-cache/parsed/ab.json", Kind.IGNORED),
    (".output.staging/index.html", Kind.IGNORED),
    (".git/index", Kind.IGNORED),
    ("content/posts/.x.md.swp", Kind.IGNORED),
    ("content/posts/x.md~", Kind.IGNORED),
    ("content/posts/.#x.md", Kind.IGNORED),
    ("content/posts/#x.md#", Kind.IGNORED),
    ("content/posts/4913", Kind.IGNORED),
    ("content/posts/x.md___jb_tmp___", Kind.IGNORED),
    ("content/posts/.goutputstream-ABC123", Kind.IGNORED),
    ("content/.DS_Store", Kind.IGNORED),
    ("templates/__pycache__/x.pyc", Kind.IGNORED),
    ("layouts/_default/single.html", Kind.IGNORED),
    ("README.md", Kind.IGNORED),
    ("site.yaml.bak", Kind.IGNORED),
    ("themes/README", Kind.IGNORED),
    ("", Kind.IGNORED),
    ("../elsewhere/site.yaml", Kind.IGNORED),
])
def test_classify(rel: str, kind: Kind) -> None:
    assert classify(rel) is kind


def test_temp_files_and_static_urls() -> None:
    assert is_temp_file(".post.md.swp") and is_temp_file("post.md~") and not is_temp_file("post.md")
    assert static_url("themes/bitopia/static/css/bitopia.css") == "/css/bitopia.css"
    assert static_url("static/css/site.css") == "/css/site.css"
    assert static_url("content/img/a.css") == "/img/a.css"
    assert static_url("content/posts/a.md") is None


def test_layout_maps_external_themes_and_ignores_the_serve_folder(tmp_path: Path) -> None:
    root, theme = tmp_path / "site", tmp_path / "pkg" / "themes" / "bitopia"
    layout = SiteLayout(root, ((theme, "bitopia"),), (root / ".bitopia-cache" / "serve",))
    assert layout.relative(str(theme / "templates" / "base.html")) == "themes/bitopia/templates/base.html"
    assert layout.relative(str(root / "content" / "a.md")) == "content/a.md"
    assert layout.relative(str(root / ".bitopia-cache" / "serve" / "index.html")) is None
    assert layout.relative(str(tmp_path / "other" / "a.md")) is None
    assert layout.relative(str(tmp_path / "site-other" / "content" / "a.md")) is None
    assert layout.absolute("themes/bitopia/templates/base.html") == theme / "templates" / "base.html"
    assert layout.absolute("content/a.md") == root / "content" / "a.md"


def test_changes_from_events(tmp_path: Path) -> None:
    root = tmp_path
    layout = SiteLayout(root)
    post = str(root / "content" / "posts" / "a.md")
    # an editor's atomic save: write a temp file, move it over the post
    assert changes_from_event(FileMovedEvent(post + ".tmp", post), layout) == [("content/posts/a.md", Kind.CONTENT)]
    # a rename counts both names: the old URL must disappear
    renamed = changes_from_event(FileMovedEvent(post, str(root / "content" / "posts" / "b.md")), layout)
    assert renamed == [("content/posts/a.md", Kind.CONTENT), ("content/posts/b.md", Kind.CONTENT)]
    assert changes_from_event(FileModifiedEvent(str(root / "output" / "index.html")), layout) == []
    assert changes_from_event(DirModifiedEvent(str(root / "content" / "posts")), layout) == []
    assert changes_from_event(FileClosedNoWriteEvent(post), layout) == []
    assert changes_from_event(DirCreatedEvent(str(root / "content")), layout) == [("content", Kind.CONTENT)]


def test_changes_summary() -> None:
    changes = Changes()
    for name in ("c.css", "a.css", "b.css", "d.css"):
        changes.add(f"static/{name}", Kind.STATIC)
    assert changes.only(Kind.STATIC) and not changes.only(Kind.CONTENT)
    assert changes.describe() == "static/a.css, static/b.css, static/c.css and 1 more"


def test_debouncer_turns_a_burst_into_one_call() -> None:
    calls: list[Changes] = []
    firsts: list[float] = []
    debouncer = Debouncer(calls.append, quiet=0.1, on_first=lambda: firsts.append(time.monotonic()))
    try:
        for i in range(500):
            debouncer.add(f"content/posts/{i}.md", Kind.CONTENT)
        assert wait_for(lambda: len(calls) == 1, 2)
        time.sleep(0.3)
        assert len(calls) == 1 and len(calls[0].paths) == 500 and len(firsts) == 1
        took = time.monotonic() - firsts[0]
        assert 0.5 <= took < 2  # a bulk change waits longer to settle than one save
        saved = time.monotonic()
        debouncer.add("static/a.css", Kind.STATIC)  # a later save is its own burst
        assert wait_for(lambda: len(calls) == 2, 2)
        assert time.monotonic() - saved < 0.4  # one save settles in ~100 ms
        assert calls[1].paths == {"static/a.css": Kind.STATIC}
    finally:
        debouncer.stop()


def test_debouncer_fires_during_a_steady_trickle_after_max_wait() -> None:
    calls: list[Changes] = []
    debouncer = Debouncer(calls.append, quiet=0.1, max_wait=0.3, bulk_quiet=0.1)
    try:
        started = time.monotonic()
        while time.monotonic() - started < 0.6:
            debouncer.add("content/log.md", Kind.CONTENT)
            time.sleep(0.02)
        assert wait_for(lambda: len(calls) >= 2, 2)
    finally:
        debouncer.stop()


def test_changes_during_a_call_make_the_next_burst() -> None:
    calls: list[Changes] = []
    entered = threading.Event()
    proceed = threading.Event()

    def slow(changes: Changes) -> None:
        calls.append(changes)
        entered.set()
        proceed.wait(5)

    debouncer = Debouncer(slow, quiet=0.05)
    try:
        debouncer.add("content/a.md", Kind.CONTENT)
        assert entered.wait(2)
        debouncer.add("content/b.md", Kind.CONTENT)
        debouncer.add("content/c.md", Kind.CONTENT)
        time.sleep(0.2)
        assert len(calls) == 1  # one call at a time
        proceed.set()
        assert wait_for(lambda: len(calls) == 2, 2)
        assert set(calls[1].paths) == {"content/b.md", "content/c.md"}
    finally:
        proceed.set()
        debouncer.stop()


@pytest.mark.parametrize("poll", [False, True], ids=["inotify", "polling"])
def test_watcher_sees_edits_and_ignores_the_output(tmp_path: Path, poll: bool) -> None:
    for folder in ("content/posts", "output", ".bitopia-cache/serve", "themes/t/templates"):
        (tmp_path / folder).mkdir(parents=True)
    calls: list[Changes] = []
    debouncer = Debouncer(calls.append, quiet=0.1)
    watcher = SiteWatcher(SiteLayout(tmp_path), debouncer, poll=poll, poll_interval=0.1)
    watcher.start()
    try:
        time.sleep(0.2)
        (tmp_path / "output" / "index.html").write_text("x")
        (tmp_path / ".bitopia-cache" / "serve" / "index.html").write_text("x")
        (tmp_path / "content" / "posts" / ".a.md.swp").write_text("x")
        time.sleep(0.5)
        assert calls == []
        (tmp_path / "content" / "posts" / "a.md").write_text("---\ntitle: A\n---\n")
        (tmp_path / "themes" / "t" / "templates" / "base.html").write_text("<html></html>")
        (tmp_path / "site.yaml").write_text("title: T\n")
        assert wait_for(lambda: calls, 5)
        time.sleep(0.3)
        seen = {}
        for changes in calls:
            seen.update(changes.paths)
        assert seen == {"content/posts/a.md": Kind.CONTENT, "themes/t/templates/base.html": Kind.THEME,
                        "site.yaml": Kind.CONFIG}
        # a folder made after the start is watched too
        (tmp_path / "static" / "css").mkdir(parents=True)
        time.sleep(0.3 if not poll else 0.5)
        calls.clear()
        (tmp_path / "static" / "css" / "site.css").write_text("body{}")
        assert wait_for(lambda: any("static/css/site.css" in c.paths for c in calls), 5)
    finally:
        watcher.stop()
        debouncer.stop()


def test_a_checkout_of_1000_files_is_one_rebuild(bundled_site: Path) -> None:
    notes = bundled_site / "static" / "notes"
    notes.mkdir(parents=True)
    for i in range(1000):
        (notes / f"{i:04}.txt").write_text("old\n")
    server = DevServer(bundled_site, live_builder(bundled_site), port=0).start()
    try:
        assert server.builds == 1
        time.sleep(0.2)
        for i in range(1000):  # what `git checkout` does: rewrite every file, back to back
            (notes / f"{i:04}.txt").write_text(f"new {i}\n")
        assert wait_for(lambda: server.builds >= 2, 10)
        time.sleep(1.0)  # any straggling event would make a third build by now
        assert server.builds == 2
        assert (server.out / "notes" / "0999.txt").read_text() == "new 999\n"
    finally:
        server.close()


def test_a_repeated_event_for_an_unchanged_file_costs_no_build(bundled_site: Path) -> None:
    post = bundled_site / "content" / "posts" / "2014-08-06-the-live-deployment-stories-from-bitopia.md"
    server = DevServer(bundled_site, live_builder(bundled_site), port=0).start()
    try:
        post.write_text(post.read_text() + "\nOne more line.\n")
        assert wait_for(lambda: server.builds == 2)
        # what a slow watcher thread may deliver late: the close that followed the write
        server.debouncer.add("content/posts/" + post.name, Kind.CONTENT)
        assert wait_for(lambda: server.skipped == 1, 5)
        assert server.builds == 2 and not server.gate.busy
        post.write_text(post.read_text().replace("One more line.", "One more line!"))
        assert wait_for(lambda: server.builds == 3)
    finally:
        server.close()


@pytest.mark.parametrize(("folder", "rel", "poll"), [
    ("content", "content/posts/a.md", False), ("static", "static/css/a.css", False),
    ("themes", "themes/t/templates/base.html", False), ("templates", "templates/post.html", True),
], ids=["content", "static", "themes", "templates-polling"])
def test_a_folder_deleted_and_made_again_is_watched_again(tmp_path: Path, folder: str, rel: str, poll: bool) -> None:
    (tmp_path / rel).parent.mkdir(parents=True)
    calls: list[Changes] = []
    debouncer = Debouncer(calls.append, quiet=0.05)
    watcher = SiteWatcher(SiteLayout(tmp_path), debouncer, poll=poll, poll_interval=0.1)
    watcher.start()
    seen = lambda name: any(name in changes.paths for changes in calls)  # noqa: E731
    try:
        shutil.rmtree(tmp_path / folder)
        assert wait_for(lambda: seen(folder), 5)
        calls.clear()
        (tmp_path / folder).mkdir()
        assert wait_for(lambda: seen(folder), 5)
        time.sleep(0.3)
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
        assert wait_for(lambda: seen(rel), 5), calls
    finally:
        watcher.stop()
        debouncer.stop()


def test_templates_deleted_and_made_again_are_watched_again(bundled_site: Path) -> None:
    templates = bundled_site / "templates"
    templates.mkdir()
    page = "<!DOCTYPE html>\n<html><body>\n<h1>{} {{{{ page.title }}}}</h1>\n</body></html>\n"
    (templates / "post.html").write_text(page.format("A"))
    server = DevServer(bundled_site, live_builder(bundled_site), port=0).start()
    built = server.out / "2014/08/06/the-live-deployment-stories-from-bitopia/index.html"
    try:
        assert "<h1>A The Live" in built.read_text()
        shutil.rmtree(templates)
        assert wait_for(lambda: server.builds == 2)
        assert "<h1>A The Live" not in built.read_text()
        templates.mkdir()
        assert wait_for(lambda: server.builds == 3)
        (templates / "post.html").write_text(page.format("B"))
        assert wait_for(lambda: server.builds == 4, 5)
        assert "<h1>B The Live" in built.read_text()
    finally:
        server.close()
