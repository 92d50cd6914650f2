"""No stale page: after each of 200 random edits of every kind (posts added, deleted, renamed,
retitled, re-dated, retagged, drafted, templates, site.yaml, static files...), every file the dev
server returns over HTTP equals a full build of the same sources.

The site and its edits are test_incremental.py's; the server is the real one (its watcher, its
LiveBuild, its HTTP handler), asked for every file right after each edit is saved: a request
that comes while the server updates the site must wait for it (or get a page already final).
"""

from __future__ import annotations

import http.client
import random
import shutil
import time
from pathlib import Path

from bitopia_site.build import BuildOptions, build
from bitopia_site.incremental import live_builder
from bitopia_site.serve.handler import BUILD_PLACEHOLDER
from bitopia_site.serve.server import DevServer, inject_livereload
from conftest import FIXED_NOW
from test_incremental import (BODIES, CATEGORIES, CONFIG_EDITS, DATES, FOLDERS, NIGHT_THEME, SECTION_INDEXES, SERIES,
                              STATIC_EDITS, TAGS, TEMPLATE_SETS, TITLES, SiteModel, differences, sync, tree)

EDITS = 200
OPTIONS = BuildOptions(now=FIXED_NOW, jobs=1, drafts=True, future=True)


def random_edit(rng: random.Random) -> tuple:
    """One edit of test_incremental's SiteModel, of any kind; posts edited most (as people do)."""
    post = rng.randrange(20)
    kind = rng.choice(["body", "title", "date", "tags", "categories", "series", "draft", "add", "add", "delete",
                       "rename", "url", "alias", "page", "lastmod", "summary", "slug",
                       "templates", "config", "static", "section", "theme"])
    some = lambda values, most: rng.sample(values, rng.randint(0, most))  # noqa: E731
    choices = {
        "body": lambda: (post, rng.randrange(len(BODIES))), "title": lambda: (post, rng.choice(TITLES)),
        "date": lambda: (post, rng.choice(DATES)), "tags": lambda: (post, some(TAGS, 3)),
        "categories": lambda: (post, some(CATEGORIES, 2)), "series": lambda: (post, some(SERIES, 1)),
        "draft": lambda: (post, rng.random() < 0.5), "delete": lambda: (post,),
        "add": lambda: (rng.choice(FOLDERS), rng.choice(TITLES), rng.choice(DATES), some(TAGS, 2)),
        "rename": lambda: (post, rng.choice(FOLDERS), rng.random() < 0.5),
        "url": lambda: (post, rng.choice((None, 1, 2))), "alias": lambda: (post, rng.random() < 0.5),
        "page": lambda: (post, rng.random() < 0.5), "lastmod": lambda: (post, rng.choice((None, DATES[6]))),
        "summary": lambda: (post, rng.choice((None, "A summary by hand."))),
        "slug": lambda: (post, rng.choice((None, 1, 2))),
        "templates": lambda: (rng.choice(sorted(TEMPLATE_SETS)),), "config": lambda: (rng.choice(CONFIG_EDITS),),
        "static": lambda: (rng.choice(STATIC_EDITS),), "section": lambda: (rng.randrange(len(SECTION_INDEXES)),),
        "theme": lambda: (rng.choice([v for variants in NIGHT_THEME.values() for v in variants]),),
    }
    return (kind, *choices[kind]())


def fetch_all(port: int, files: list[str], token_of: dict[str, str], into: Path) -> None:
    """GET every file over HTTP into `into`, each page's build token put back as the placeholder."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for rel in files:
            url = "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
            connection.request("GET", url)
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200, (url, response.status, body[:300])
            if rel.endswith(".html"):
                token = body.split(b'data-build="', 1)[1].split(b'"', 1)[0].decode()
                token_of[rel] = token
                body = body.replace(f'data-build="{token}"'.encode(), f'data-build="{BUILD_PLACEHOLDER}"'.encode())
            target = into / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
    finally:
        connection.close()


def compare(server: DevServer, site: Path, fresh: Path, served: Path, options: BuildOptions) -> list[str]:
    """How what the server returns differs from a full build (pages of two builds served at once too)."""
    build(site, fresh, options)
    tokens: dict[str, str] = {}
    try:
        fetch_all(server.port, sorted(tree(fresh)), tokens, served)
        problems = differences(served, fresh)
        problems += [f"left in the serve folder: {rel}" for rel in sorted(tree(server.out).keys() - tree(fresh).keys())]
        if len(set(tokens.values())) > 1:
            problems.append(f"pages of two builds served at once: {sorted(set(tokens.values()))}")
    finally:
        shutil.rmtree(fresh)
        shutil.rmtree(served, ignore_errors=True)
    return problems


def settle(server: DevServer, seen: int) -> None:
    """Wait until the server has heard of the edit (a build or a skipped burst since `seen`)."""
    deadline = time.monotonic() + 10
    while server.builds + server.skipped == seen and time.monotonic() < deadline:
        time.sleep(0.01)


def test_every_page_served_after_each_random_edit_equals_a_full_build(tmp_path: Path) -> None:
    site, fresh, served = tmp_path / "site", tmp_path / "fresh", tmp_path / "served"
    site.mkdir()
    model = SiteModel.initial()
    sync(site, model.files())
    rng = random.Random(20)
    log: list[str] = []
    with DevServer(site, live_builder(site, OPTIONS), port=0, out=tmp_path / "serve") as server:
        options = BuildOptions(now=FIXED_NOW, jobs=1, drafts=True, future=True, base_url=server.url,
                               post_process=inject_livereload)
        for step in range(EDITS + 1):
            if step:
                log.append(model.apply(random_edit(rng)))
                seen = server.builds + server.skipped
                if not sync(site, model.files()):
                    continue
                settle(server, seen)
            for attempt in range(3):
                builds = server.builds + server.skipped
                problems = compare(server, site, fresh, served, options)
                if not problems or server.builds + server.skipped == builds:
                    break  # else the server heard of a later change (a second burst, the shared theme): again
            assert not problems, "\n".join([f"after {step} edits:", *log[-5:], *problems[:5]])
        assert server.builder.updates > EDITS / 4, "most edits are applied in memory"  # type: ignore[attr-defined]
