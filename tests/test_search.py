"""Site search (search.py): the Pagefind index holds every published post and page and nothing
else, is made again only when what it holds changed, and a copy that came with the site is
never published. The index is read back the way Pagefind's own script reads it: each page's
fragment is gzip with a `pagefind_dcd` header before its JSON."""

from __future__ import annotations

import gzip
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bitopia_site import search
from bitopia_site.build import BuildOptions, build
from bitopia_site.errors import BuildFailed

from conftest import copy_bundled, wait_for

DRAFT = """---
title: Unfinished Thoughts
date: 2014-10-30
draft: true
---
A draft about the zeppelinwhisperer, which no reader may find yet.
"""

FUTURE = """---
title: Next Year
date: 2099-01-01
---
The chronoflange arrives in a future post.
"""


def _indexed(out: Path) -> dict[str, str]:
    """Each indexed page's URL and text, from the index's fragments."""
    found = {}
    for fragment in (out / "pagefind" / "fragment").iterdir():
        data = gzip.decompress(fragment.read_bytes())
        assert data.startswith(b"pagefind_dcd")
        page = json.loads(data[len(b"pagefind_dcd"):])
        found[page["url"]] = page["content"]
    return found


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = copy_bundled(tmp_path)
    (root / "content" / "posts" / "2014-10-30-unfinished.md").write_text(DRAFT, encoding="utf-8")
    (root / "content" / "posts" / "2099-01-01-next-year.md").write_text(FUTURE, encoding="utf-8")
    return root


def test_the_index_holds_every_published_post_and_page_and_nothing_else(site: Path, tmp_path: Path) -> None:
    """Drafts are never indexed, not even in a build that publishes them; future posts only when
    the build publishes them; lists, feeds and the 404 page never."""
    out = tmp_path / "out"
    build(site, out, BuildOptions(drafts=True))
    indexed = _indexed(out)
    pages = {path.parent.relative_to(out).as_posix() for path in out.rglob("index.html")
             if (path.parent / "index.html").read_bytes().count(b'class="kind-post"')
             or b'class="kind-page"' in path.read_bytes()}
    assert set(indexed) == {f"/{page}/" for page in pages} - {"/2014/10/30/unfinished/"}
    assert "/2014/10/30/unfinished/" in {f"/{page}/" for page in pages}  # published, yet not indexed
    assert not any("zeppelinwhisperer" in text or "chronoflange" in text for text in indexed.values())
    assert any("arrived in a box too big" in text for text in indexed.values())
    assert (out / "search" / "index.html").is_file()
    build(site, out, BuildOptions(future=True))
    assert any("chronoflange" in text for text in _indexed(out).values())


def test_the_index_is_made_again_only_when_its_pages_changed(site: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    build(site, out)
    before = _indexed(out)
    made: list[int] = []
    real_make = search._make
    monkeypatch.setattr(search, "_make", lambda records, folder, background=False: (
        made.append(len(records)), real_make(records, folder, background)))
    template = site / "themes" / "bitopia" / "templates" / "partials" / "share.html"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    build(site, out)  # every page rendered again: the same records, the same index
    assert made == [] and _indexed(out) == before
    post = site / "content" / "posts" / "2014-10-21-the-pager-stories-from-bitopia.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nThe pager learned to hum.\n", encoding="utf-8")
    build(site, out)  # a body edit, the short way: the index is made again, with the new words
    assert len(made) == 1
    assert any("learned to hum" in text for text in _indexed(out).values())
    assert len(list((site / ".bitopia-cache" / "search").iterdir())) == 1  # the older index is gone


def test_an_index_that_came_with_the_site_is_never_published(site: Path, tmp_path: Path) -> None:
    """A cached index whose signature is not this machine's (a repository shipped it, or someone
    changed it) is made again, not copied into the output."""
    out = tmp_path / "out"
    build(site, out)
    cached = next((site / ".bitopia-cache" / "search").iterdir())
    script = cached / "pagefind-ui.js"
    script.write_text("alert('from the repository')", encoding="utf-8")
    post = site / "content" / "pages" / "about.md"
    post.touch()  # a build that reads again, with the same records
    build(site, tmp_path / "other")
    assert b"from the repository" not in (tmp_path / "other" / "pagefind" / "pagefind-ui.js").read_bytes()


def test_records_are_the_documents_pages_in_url_order(site: Path, tmp_path: Path) -> None:
    from bitopia_site.build import render_site

    rendered = render_site(site, BuildOptions(drafts=True))
    records = search.records_of(rendered.index.documents, "/blog/", "en")
    assert [r.url for r in records] == sorted(r.url for r in records)
    assert all(r.url.startswith("/blog/") for r in records)
    assert not any("zeppelinwhisperer" in r.html for r in records)
    pager = next(r for r in records if r.url == "/blog/2014/10/21/the-pager-stories-from-bitopia/")
    assert '<h1 data-pagefind-meta="title">The Pager (Stories from Bitopia)</h1>' in pager.html
    assert search.digest(records) == search.digest(list(records))
    assert search.digest(records) != search.digest(records[1:])


def test_search_must_be_true_or_false(site: Path, tmp_path: Path) -> None:
    config = site / "site.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("search: true", "search: maybe"), encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build(site, tmp_path / "out")
    assert "site.yaml: search must be true or false, not 'maybe'" in str(failed.value)


def test_without_pagefind_the_build_fails_naming_what_to_do(site: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-such-pagefind"))
    out = tmp_path / "out"
    with pytest.raises(BuildFailed) as failed:
        build(site, out)
    message = str(failed.value)
    assert "site.yaml: the search index could not be made" in message and "search: false" in message
    assert not out.exists()  # nothing published


def _served_texts(server: Any) -> dict[str, str]:
    folder = server.folder
    return _indexed(folder) if (folder / "pagefind" / "pagefind-entry.json").is_file() else {}


def test_the_dev_server_indexes_after_the_reload_and_again_after_an_edit(site: Path) -> None:
    """serve makes the index on a thread of its own once the pages are in place (a save is never
    kept waiting by it), leaves drafts out although it shows them, and makes it again after an
    edit; every file of the index it serves is one the index names."""
    from bitopia_site.incremental import live_builder
    from bitopia_site.serve.server import DevServer

    server = DevServer(site, live_builder(site), port=0).start()
    try:
        assert wait_for(lambda: any("arrived in a box too big" in t for t in _served_texts(server).values()))
        assert not any("zeppelinwhisperer" in text for text in _served_texts(server).values())
        with urllib.request.urlopen(server.url + "/2014/10/30/unfinished/") as answer:
            assert answer.status == 200  # the draft is shown in the preview...
        post = site / "content" / "posts" / "2014-10-21-the-pager-stories-from-bitopia.md"
        post.write_text(post.read_text(encoding="utf-8") + "\nThe pager learned to hum.\n", encoding="utf-8")
        assert wait_for(lambda: any("learned to hum" in t for t in _served_texts(server).values()), timeout=20)
        fragments = {p.name for p in (server.folder / "pagefind" / "fragment").iterdir()}
        assert len(fragments) == len(_served_texts(server))  # the old index's files are gone
        with urllib.request.urlopen(server.url + "/pagefind/pagefind-ui.js") as answer:
            assert answer.status == 200
    finally:
        server.close()


def test_a_pagefind_that_stops_without_answering_fails_the_build(site: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A binary that exits at once (or answers nothing we asked) is an error naming site.yaml; the
    build neither hangs nor publishes."""
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", "/bin/true")
    out = tmp_path / "out"
    with pytest.raises(BuildFailed) as failed:
        build(site, out)
    assert "site.yaml: the search index could not be made: Pagefind stopped before it answered" in str(failed.value)
    assert not out.exists()
