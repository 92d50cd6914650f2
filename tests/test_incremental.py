"""An incremental build gives exactly the bytes a clean full build gives, after any edit.

The build keeps `.bitopia-cache/` (parsed documents by content hash, and the page fingerprints
of the last build into an output folder), renders only pages whose fingerprint changed and
hard-links the rest from the previous output. Here a small site is edited step by step (a
post's body, title, date, lastmod, expiry, terms, draft flag, URL, slug, aliases, type, layout,
featured image, summary; adding, deleting and renaming posts, also into another section; the
section's `_index.md`; the site's own template overrides; a theme of its own; `site.yaml`;
static files), and after every step the incremental output folder is compared, file by file and byte
for byte, with a fresh build (`cache=False`) into an empty folder.

The site lives in a Python model (`SiteModel`) that is written to disk after each edit, only
the files that changed being touched, as an editor would. `test_each_edit_kind_once` walks a
fixed sequence with one edit of each kind, so a regression fails with a readable step;
`test_random_edit_sequences` lets hypothesis pick the sequences (and shrinks a failure).
Other tests switch build options and the clock between builds, put a failed build in between,
and (at the end) pin bugs found here, each as a minimal case.
"""

from __future__ import annotations

import copy
import difflib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bitopia_site.build
from bitopia_site.build import BuildOptions, BuildSummary, build, run_build
from bitopia_site.cache import CACHE_DIR, Cache, record_key
from bitopia_site.fingerprint import Fingerprinter
from bitopia_site.errors import BuildFailed, Report
from bitopia_site.incremental import LiveBuild
from bitopia_site.output_folder import MARKER, output_id
from conftest import FIXED_NOW

# --- the sample site, as a model ------------------------------------------------------------

FOLDERS = ("posts", "notes")
TITLES = ("Alpha", "Beta & Gamma", '<Delta> "quoted"', "alpha", "Zeta", "Same Title")
# naive times take the site's timezone; 23:30 and 00:15 move to another day, month or year when
# the timezone changes; the last one is after FIXED_NOW (a scheduled post, not published)
DATES = ("2023-12-31 23:30:00", "2024-01-05 09:00:00", "2024-01-20 12:00:00", "2024-02-01 00:15:00",
         "2024-03-10 18:00:00", "2025-06-01 08:00:00", "2025-11-30 22:00:00", "2026-02-01 10:00:00")
TAGS = ("Python", "python", "Code & Tech", "code-tech", "Rust", "Notes")  # two pairs share a slug
CATEGORIES = ("Code & Tech", "code-tech", "Code Tech", "Life")  # three spellings of one slug
SERIES = ("Saga", "Other Saga")
BODIES = (
    "Plain text body.\n",
    "A body with *emphasis* and a [link](/about/).\n\n## A heading\n\nMore words here.\n",
    "An intro paragraph.\n\n<!--more-->\n\nThe rest of the story, after the fold.\n",
    " ".join(f"word{k}" for k in range(120)) + "\n",
    "Some code:\n\n```python\nprint('hi')\n```\n\n![an image](/img/avatar.jpg)\n",
    "Plain text body!\n",  # one character away from the first
)
SECTION_INDEXES = (
    None,
    "---\ntitle: Field Notes\n---\nNotes from the field.\n",
    "---\ntitle: Field Notes\n---\nNotes from the field, revised.\n",
    "---\ntitle: Notebook\n---\n",
)
POST_FOOTER = ('{% extends "bitopia/post.html" %}\n'
               '{% block post_footer %}<p class="thanks">TEXT</p>{{ super() }}{% endblock %}\n')
TEMPLATE_SETS: dict[str, dict[str, str]] = {
    "none": {},
    "post": {"post.html": POST_FOOTER.replace("TEXT", "Thanks for reading.")},
    "post-2": {"post.html": POST_FOOTER.replace("TEXT", "Thank you for reading!")},
    "post+base": {
        "post.html": POST_FOOTER.replace("TEXT", "Thanks for reading."),
        "base.html": '{% extends "bitopia/base.html" %}\n'
                     '{% block footer %}<footer class="site-footer"><p>Made by hand.</p></footer>{% endblock %}\n',
    },
    "home": {"home.html": '{% extends "bitopia/list.html" %}\n'
                          '{% block list_header %}<p class="welcome">Welcome.</p>{{ super() }}{% endblock %}\n'},
    "term-whole": {"term.html": "<!doctype html>\n<title>{{ title }} · {{ site.title }}</title>\n<ul>\n"
                                "{% for item in pager['items'] %}<li><a href=\"{{ url_for(item.url) }}\">"
                                "{{ item.title }}</a></li>\n{% endfor %}</ul>\n"},
    "partial": {"partials/tags.html": "{% for t in item.tags %}<a class=\"tag\" href=\"{{ url_for(t.url) }}\">"
                                      "#{{ t.name }}</a> {% endfor %}\n"},
}
# a theme of the site's own, used when site.yaml says `theme: night`
NIGHT_THEME: dict[str, tuple[tuple[str, str | None], ...]] = {
    "theme.yaml": (("theme.yaml", "parent: bitopia\n"),
                   ("theme.yaml", "parent: bitopia\nparams:\n  terms_style: list\n")),
    "base.html": tuple(("templates/base.html", '{% extends "bitopia/base.html" %}\n' + footer) for footer in (
        "{% block footer %}<footer><p>Written at night.</p></footer>{% endblock %}\n",
        "{% block footer %}<footer><p>Written at dawn.</p></footer>{% endblock %}\n",
        "")),
    "night.css": (("static/css/night.css", "body { background: #000; }\n"), ("static/css/night.css", None)),
}
# (key, value): None removes the key; keys under params: are written `params.<key>`
CONFIG_EDITS: tuple[tuple[str, Any], ...] = (
    ("title", "Another Title"), ("title", "Incremental & Co"),
    ("paginate", 1), ("paginate", 2), ("paginate", 3),
    ("base_url", "https://example.org/"), ("base_url", "https://example.org/blog/"),
    ("timezone", "UTC"), ("timezone", "Pacific/Auckland"), ("timezone", "Europe/Helsinki"),
    ("summary_words", 5), ("summary_words", None),
    ("description", "Changed description."),
    ("main_sections", ["posts", "notes"]), ("main_sections", None),
    ("permalinks", {"posts": "/p/:slug/"}), ("permalinks", {"post": "/:year/:month/:slug/"}), ("permalinks", None),
    ("feed_limit", 3), ("feed_limit", None),
    ("params.terms_style", "list"), ("params.terms_style", None),
    ("params.show_full_first_post", True), ("params.show_full_first_post", None),
    ("params.avatar", "/img/avatar.jpg"), ("params.avatar", None),
    ("theme", "night"), ("theme", None),
    ("related", {"count": 2, "include_newer": False}), ("related", {"indices": {"categories": 100}, "threshold": 0}),
    ("related", False), ("related", None),
)
STATIC_EDITS: tuple[tuple[str, str | None], ...] = (
    ("img/avatar.jpg", "not really a jpeg\n"), ("img/avatar.jpg", None),
    ("css/extra.css", "a { color: red; }\n"), ("css/extra.css", "a { color: tan; }\n"),  # the same size
    ("css/extra.css", None),
)


@dataclass
class Post:
    uid: int  # never reused: custom URLs and aliases are made from it, so they never collide
    folder: str
    stem: str
    title: str
    date: str
    body: str = BODIES[0]
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    draft: bool = False
    url: str | None = None
    aliases: list[str] = field(default_factory=list)
    page: bool = False
    lastmod: str | None = None
    expiry: str | None = None
    slug: str | None = None
    layout: str | None = None
    featured: str | None = None
    summary: str | None = None

    @property
    def path(self) -> str:
        return f"content/{self.folder}/{self.stem}.md"

    def text(self) -> str:
        meta: dict[str, Any] = {"title": self.title, "date": self.date}
        for key, value in (("tags", self.tags), ("categories", self.categories), ("series", self.series),
                           ("aliases", self.aliases)):
            if value:
                meta[key] = list(value)
        if self.draft:
            meta["draft"] = True
        if self.url:
            meta["url"] = self.url
        if self.page:
            meta["type"] = "page"
        if self.lastmod:
            meta["lastmod"] = self.lastmod
        if self.expiry:
            meta["expirydate"] = self.expiry
        for key in ("slug", "layout", "featured", "summary"):
            if getattr(self, key):
                meta[key] = getattr(self, key)
        return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n" + self.body


def initial_posts() -> list[Post]:
    return [
        Post(1, "posts", "2024-01-05-alpha", "Alpha", DATES[1], BODIES[1], ["Python", "Code & Tech"],
             ["Code & Tech"], ["Saga"], aliases=["/old/1/"]),
        Post(2, "posts", "beta", "Beta & Gamma", DATES[2], BODIES[2], ["python"], ["code-tech"], ["Saga"]),
        Post(3, "posts", "gamma", "Zeta", DATES[3], BODIES[3], ["Rust"], ["Life"]),
        Post(4, "posts", "delta", '<Delta> "quoted"', DATES[4], BODIES[4], ["Python", "Rust"], ["Life"],
             ["Saga"], lastmod=DATES[5]),
        Post(5, "posts", "epsilon", "Same Title", DATES[5], BODIES[0], ["code-tech"], ["Code Tech"]),
        Post(6, "posts", "zeta", "Same Title", DATES[5], BODIES[0], ["Rust"], draft=True),
        Post(7, "posts", "eta", "Alpha", DATES[0], BODIES[1], [], ["Life"], ["Other Saga"]),
        Post(8, "notes", "note-one", "Alpha", DATES[2], BODIES[0], ["Notes"]),
        Post(9, "notes", "2025-06-01-note-two", "Zeta", DATES[6], BODIES[2], ["Notes", "Python"], ["Life"]),
    ]


INITIAL_CONFIG: dict[str, Any] = {
    "title": "Incremental Site",
    "base_url": "https://example.org/blog/",
    "author": "Ada",
    "description": "A small site that changes a lot.",
    "timezone": "Europe/Helsinki",
    "paginate": 2,
    "menus": {"main": [{"name": "Home", "url": "/", "weight": 1}, {"name": "About", "url": "/about/", "weight": 2},
                       {"name": "Archives", "url": "/archives/", "weight": 3}]},
}
ABOUT = "---\ntitle: About\ntype: page\nurl: /about/\n---\nAbout this site.\n"


@dataclass
class SiteModel:
    posts: list[Post]
    config: dict[str, Any]
    templates: dict[str, str]
    static: dict[str, str]
    section_index: str | None
    theme: dict[str, str] = field(default_factory=lambda: {variants[0][0]: str(variants[0][1])
                                                           for variants in NIGHT_THEME.values()})
    next_uid: int = 100

    @classmethod
    def initial(cls, templates: str = "none") -> "SiteModel":
        return cls(initial_posts(), copy.deepcopy(INITIAL_CONFIG), dict(TEMPLATE_SETS[templates]),
                   {"img/avatar.jpg": "not really a jpeg\n"}, SECTION_INDEXES[1])

    def files(self) -> dict[str, str]:
        out = {"site.yaml": yaml.safe_dump(self.config, sort_keys=False, allow_unicode=True),
               "content/pages/about.md": ABOUT}
        if self.section_index is not None:
            out["content/notes/_index.md"] = self.section_index
        for post in self.posts:
            out[post.path] = post.text()
        for name, text in self.templates.items():
            out[f"templates/{name}"] = text
        for name, text in self.static.items():
            out[f"static/{name}"] = text
        for name, text in self.theme.items():
            out[f"themes/night/{name}"] = text
        return out

    def uid(self) -> int:
        self.next_uid += 1
        return self.next_uid

    def apply(self, edit: tuple) -> str:
        """Apply one edit; returns what it did, for the failure message."""
        kind, *args = edit
        if kind in POST_EDITS:
            post = self.posts[args[0] % len(self.posts)]
            value = args[1] if len(args) > 1 else None
            if kind == "body":
                post.body = BODIES[value]
            elif kind == "url":
                post.url = None if value is None else f"/custom/{post.uid}-{value}/"
            elif kind == "slug":
                post.slug = None if value is None else f"s{post.uid}-{value}"
            elif kind == "alias":
                post.aliases = [f"/old/{post.uid}/"] if value else []
            elif kind == "delete":
                if len(self.posts) == 1:
                    return "delete: skipped (the last post)"
                self.posts.remove(post)
                return f"delete {post.path}"
            elif kind == "rename":
                folder, dated = args[1], args[2]
                old = post.path
                base = f"moved-{self.uid()}"
                post.folder, post.stem = folder, (f"{post.date[:10]}-{base}" if dated else base)
                return f"rename {old} -> {post.path}"
            else:
                setattr(post, kind, copy.copy(value))
            return f"{kind} of {post.path} = {getattr(post, 'aliases' if kind == 'alias' else kind)!r}"
        if kind == "add":
            folder, title, date, tags = args
            uid = self.uid()
            post = Post(uid, folder, f"added-{uid}", title, date, BODIES[uid % len(BODIES)], list(tags))
            self.posts.append(post)
            return f"add {post.path} ({title!r}, {date}, tags {tags})"
        if kind == "section":
            self.section_index = SECTION_INDEXES[args[0]]
            return f"content/notes/_index.md = {self.section_index!r}"
        if kind == "templates":
            self.templates = dict(TEMPLATE_SETS[args[0]])
            return f"templates/ = {args[0]} {sorted(self.templates)}"
        if kind == "config":
            key, value = args[0]
            target = self.config
            if key.startswith("params."):
                target = self.config.setdefault("params", {})
                key = key.removeprefix("params.")
            if value is None:
                target.pop(key, None)
            else:
                target[key] = copy.deepcopy(value)
            if not self.config.get("params", True):
                del self.config["params"]
            return f"site.yaml {args[0][0]} = {value!r}"
        if kind == "theme":
            name, text = args[0]
            if text is None:
                self.theme.pop(name, None)
            else:
                self.theme[name] = text
            return f"themes/night/{name} = {text!r}"
        if kind == "static":
            name, text = args[0]
            if text is None:
                self.static.pop(name, None)
            else:
                self.static[name] = text
            return f"static/{name} = {text!r}"
        raise AssertionError(kind)


POST_EDITS = {"body", "title", "date", "lastmod", "expiry", "tags", "categories", "series", "draft", "url",
              "alias", "page", "delete", "rename", "slug", "layout", "featured", "summary"}


def sync(root: Path, files: dict[str, str]) -> list[str]:
    """Make the site folder hold exactly `files`, touching only what differs (the cache stays);
    return the files written or deleted."""
    touched = []
    for path in sorted(root.rglob("*"), reverse=True):
        rel = path.relative_to(root).as_posix()
        if rel == CACHE_DIR or rel.startswith(CACHE_DIR + "/"):
            continue
        if path.is_file() and rel not in files:
            path.unlink()
            touched.append(rel)
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()  # an emptied templates/ folder goes too, as a person would delete it
    for rel, text in files.items():
        path = root / rel
        data = text.encode("utf-8")
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        touched.append(rel)
    return touched


# --- comparing outputs ------------------------------------------------------------------------

def tree(folder: Path) -> dict[str, bytes]:
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            rel = path.relative_to(folder).as_posix()
            if rel != MARKER:
                found[rel] = path.read_bytes()
    return found


def differences(incremental: Path, fresh: Path) -> list[str]:
    inc, full = tree(incremental), tree(fresh)
    problems = [f"only in the incremental output: {p}" for p in sorted(inc.keys() - full.keys())]
    problems += [f"missing from the incremental output: {p}" for p in sorted(full.keys() - inc.keys())]
    for path in sorted(inc.keys() & full.keys()):
        if inc[path] != full[path]:
            diff = difflib.unified_diff(full[path].decode("utf-8", "replace").splitlines(),
                                        inc[path].decode("utf-8", "replace").splitlines(),
                                        "full build", "incremental build", n=1, lineterm="")
            problems.append(f"differs: {path}\n" + "\n".join(list(diff)[:14]))
    return problems


class Harness:
    """A site folder, its incremental output folder, and a fresh full build to compare with.

    With `live`, the incremental builds are a dev server's: one LiveBuild kept between edits,
    told which files changed, updating its folder in place.
    """

    def __init__(self, base: Path, model: SiteModel, live: bool = False) -> None:
        self.base = base
        self.site = base / "site"
        self.out = base / "out"
        self.model = model
        self.log: list[str] = []
        self.site.mkdir()
        sync(self.site, model.files())
        self.live = LiveBuild(self.site, self.out, BuildOptions(now=FIXED_NOW, jobs=1, in_place=True)) if live else None
        self.updates = 0  # edits the LiveBuild applied without a whole build

    def step(self, *edits: tuple) -> BuildSummary:
        for edit in edits:
            self.log.append(self.model.apply(edit))
        return self.check(sync(self.site, self.model.files()))

    def check(self, touched: list[str] | None = None) -> BuildSummary:
        if self.live is None:
            result = build(self.site, self.out, BuildOptions(now=FIXED_NOW, jobs=1))
        else:
            result = self.live.update({rel: self.site / rel for rel in touched}) if touched else None
            self.updates += result is not None
            result = result or self.live.build()
        fresh = self.base / "fresh"
        build(self.site, fresh, BuildOptions(now=FIXED_NOW, jobs=1, cache=False))
        try:
            problems = differences(self.out, fresh)
        finally:
            shutil.rmtree(fresh)
        if problems:
            steps = "\n".join(f"  {i}. {line}" for i, line in enumerate(self.log, 1)) or "  (none)"
            shown = "\n".join(problems[:8]) + (f"\n... and {len(problems) - 8} more" if len(problems) > 8 else "")
            pytest.fail(f"incremental output differs from a full build after these edits:\n{steps}\n{shown}",
                        pytrace=False)
        return result


def assert_same_as_full_build_a_year_later(harness: Harness) -> None:
    """An incremental build a year after FIXED_NOW, with no file changed, equals a full one."""
    later = FIXED_NOW.replace(year=2027)
    build(harness.site, harness.out, BuildOptions(now=later, jobs=1))
    fresh = harness.base / "fresh-later"
    build(harness.site, fresh, BuildOptions(now=later, jobs=1, cache=False))
    assert differences(harness.out, fresh) == []


class MemoryBytecodeCache(jinja2.BytecodeCache):
    """Jinja's compiled templates kept in memory across builds, checked against each template's
    source (Jinja recompiles a template whose text changed). Compiling the theme is most of a
    small site's build time; this makes the tests three times faster and changes no output."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


BYTECODE = MemoryBytecodeCache()


@pytest.fixture(autouse=True)
def fast_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled templates are reused (set BITOPIA_INCREMENTAL_COMPILE=1 to compile them in every
    build, as `bitopia build` does)."""
    if os.environ.get("BITOPIA_INCREMENTAL_COMPILE"):
        return
    make_environment = bitopia_site.build.make_environment

    def with_bytecode_cache(*args: Any, **kwargs: Any) -> jinja2.Environment:
        env = make_environment(*args, **kwargs)
        env.bytecode_cache = BYTECODE
        return env

    monkeypatch.setattr(bitopia_site.build, "make_environment", with_bytecode_cache)


# --- a fixed sequence: every edit kind once -----------------------------------------------------

FIXED_SEQUENCE: list[tuple] = [
    ("body", 0, 2),
    ("title", 1, "Zeta"),
    ("date", 2, DATES[6]),  # moves a post to the top of the home page: pagination shifts
    ("date", 3, DATES[0]),  # to another year
    ("lastmod", 4, DATES[6]),
    ("tags", 0, ["code-tech", "Rust"]),  # a second spelling of the slug code-tech
    ("tags", 1, []),
    ("categories", 2, ["Code & Tech", "code-tech"]),  # two spellings on one post
    ("series", 4, ["Saga"]),  # joins a series: every part's box changes
    ("series", 0, []),
    ("draft", 5, False),
    ("draft", 1, True),
    ("url", 2, 1),
    ("alias", 3, True),
    ("alias", 0, False),
    ("page", 4, True),
    ("expiry", 3, "2025-01-01"),
    ("add", "posts", "New & Shiny", DATES[4], ["Python", "python"]),
    ("add", "notes", "A Note", DATES[7], ["Notes"]),  # scheduled: not published
    ("delete", 6),
    ("rename", 0, "posts", True),
    ("rename", 1, "notes", False),  # moves to another section
    ("section", 2),
    ("section", 0),
    ("templates", "post"),
    ("templates", "post-2"),
    ("templates", "post+base"),
    ("templates", "home"),
    ("templates", "term-whole"),
    ("templates", "partial"),
    ("templates", "none"),
    ("config", ("title", "Another Title")),
    ("config", ("paginate", 1)),
    ("config", ("paginate", 3)),
    ("config", ("base_url", "https://example.org/")),
    ("config", ("timezone", "Pacific/Auckland")),
    ("config", ("summary_words", 5)),
    ("config", ("main_sections", ["posts", "notes"])),
    ("config", ("permalinks", {"posts": "/p/:slug/"})),
    ("config", ("feed_limit", 3)),
    ("config", ("related", {"count": 2, "include_newer": False})),
    ("config", ("related", False)),
    ("config", ("related", None)),
    ("config", ("params.terms_style", "list")),
    ("config", ("params.show_full_first_post", True)),
    ("config", ("params.avatar", "/img/avatar.jpg")),
    ("static", ("img/avatar.jpg", None)),
    ("static", ("css/extra.css", "a { color: red; }\n")),
    ("static", ("css/extra.css", "a { color: tan; }\n")),
    ("static", ("css/extra.css", None)),
    ("slug", 2, 1),
    ("layout", 3, "page"),
    ("featured", 0, "avatar.jpg"),  # the file is gone (see above): a warning, and no image
    ("static", ("img/avatar.jpg", "not really a jpeg\n")),  # back: the image appears
    ("summary", 0, "A summary by hand."),
    ("config", ("theme", "night")),
    ("theme", NIGHT_THEME["base.html"][1]),
    ("theme", NIGHT_THEME["theme.yaml"][1]),
    ("theme", NIGHT_THEME["night.css"][1]),
    ("theme", NIGHT_THEME["base.html"][2]),
    ("config", ("theme", None)),
]


def test_each_edit_kind_once(tmp_path: Path) -> None:
    harness = Harness(tmp_path, SiteModel.initial())
    first = harness.check()
    assert first.rendered == first.pages
    again = harness.check()
    assert (again.rendered, again.stats.written) == (0, 0), "a build with no change renders and writes nothing"
    for edit in FIXED_SEQUENCE:
        harness.step(edit)


def test_live_build_after_each_edit_kind(tmp_path: Path) -> None:
    """A dev server's LiveBuild, told which files each edit touched, keeps its folder equal to a
    full build; edits that leave a post's place in the site are applied without a whole build."""
    harness = Harness(tmp_path, SiteModel.initial(), live=True)
    harness.check()
    for edit in [("body", 0, 2), ("body", 3, 5), ("summary", 1, "A summary by hand."), ("body", 8, 1)]:
        harness.step(edit)
    assert harness.updates == 4
    for edit in FIXED_SEQUENCE:
        harness.step(edit)
        harness.step(("body", edit[1] if isinstance(edit[1], int) else 0, len(harness.log) % len(BODIES)))
    assert harness.updates > len(FIXED_SEQUENCE) / 2, harness.updates


def test_live_build_moves_posts_without_a_whole_build(tmp_path: Path) -> None:
    """A post added, deleted, renamed, retitled, re-dated, retagged or drafted is applied in memory
    (the site planned again from the documents kept there, only the edited file read), and the
    folder still equals a full build; a template or the config still takes a whole build."""
    harness = Harness(tmp_path, SiteModel.initial(), live=True)
    harness.check()
    moves = [edit for edit in FIXED_SEQUENCE if edit[0] in POST_EDITS or edit[0] == "add"]
    for count, edit in enumerate(moves, 1):
        harness.step(edit)
        assert harness.updates == count, f"{edit} took a whole build"
    harness.step(("templates", "post"))
    harness.step(("config", ("title", "Another Title")))
    assert harness.updates == len(moves)
    harness.step(("add", "posts", "After the config", DATES[3], ["Rust"]), ("delete", 2))
    assert harness.updates == len(moves) + 1


def test_incremental_build_renders_only_what_changed(tmp_path: Path) -> None:
    """The comparison above means something: most pages are kept, not rendered again."""
    harness = Harness(tmp_path, SiteModel.initial())
    harness.check()
    result = harness.step(("body", 8, 1))  # a note: in no list of the home page or of the sidebar
    assert 0 < result.rendered < result.pages / 4, (result.rendered, result.pages)
    assert result.stats.written < result.pages / 4


def test_body_edit_plans_only_the_pages_showing_the_post(tmp_path: Path) -> None:
    """An edit that leaves a post where it was (its body, its summary) takes the short way: the
    build plans only the pages that showed the post, keeps the rest, and still equals a full build.
    A retitled post changes lists and links, so that build plans the whole site."""
    harness = Harness(tmp_path, SiteModel.initial())
    harness.check()
    for edit in [("body", 0, 2), ("summary", 1, "A summary by hand."), ("body", 8, 1), ("title", 2, "Alpha")]:
        harness.log.append(harness.model.apply(edit))
        sync(harness.site, harness.model.files())
        swap = harness.site / f"content/posts/.edit-{len(harness.log)}.md.swp"  # an editor's, as the post is saved
        swap.write_bytes(b"b0VIM 9.0")
        built = run_build(harness.site, harness.out, BuildOptions(now=FIXED_NOW, jobs=1))
        assert built.site is not None
        planned = len(built.site.pages)
        if edit[0] == "title":
            assert planned == built.summary.pages, "a retitled post is a whole build"
        else:
            assert 0 < planned < built.summary.pages / 4, (edit, planned, built.summary.pages)
        harness.check()


# --- random sequences ---------------------------------------------------------------------------

POST = st.integers(0, 20)  # taken modulo the number of posts
EDIT = st.one_of(
    st.tuples(st.just("body"), POST, st.integers(0, len(BODIES) - 1)),
    st.tuples(st.just("title"), POST, st.sampled_from(TITLES)),
    st.tuples(st.just("date"), POST, st.sampled_from(DATES)),
    st.tuples(st.just("lastmod"), POST, st.sampled_from((None, DATES[0], DATES[6]))),
    st.tuples(st.just("expiry"), POST, st.sampled_from((None, "2025-01-01", "2027-01-01"))),
    st.tuples(st.just("tags"), POST, st.lists(st.sampled_from(TAGS), unique=True, max_size=3)),
    st.tuples(st.just("categories"), POST, st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=2)),
    st.tuples(st.just("series"), POST, st.lists(st.sampled_from(SERIES), max_size=1)),
    st.tuples(st.just("draft"), POST, st.booleans()),
    st.tuples(st.just("url"), POST, st.sampled_from((None, 1, 2))),
    st.tuples(st.just("alias"), POST, st.booleans()),
    st.tuples(st.just("page"), POST, st.booleans()),
    st.tuples(st.just("add"), st.sampled_from(FOLDERS), st.sampled_from(TITLES), st.sampled_from(DATES),
              st.lists(st.sampled_from(TAGS), unique=True, max_size=2)),
    st.tuples(st.just("delete"), POST),
    st.tuples(st.just("rename"), POST, st.sampled_from(FOLDERS), st.booleans()),
    st.tuples(st.just("section"), st.integers(0, len(SECTION_INDEXES) - 1)),
    st.tuples(st.just("templates"), st.sampled_from(sorted(TEMPLATE_SETS))),
    st.tuples(st.just("config"), st.sampled_from(CONFIG_EDITS)),
    st.tuples(st.just("static"), st.sampled_from(STATIC_EDITS)),
    st.tuples(st.just("slug"), POST, st.sampled_from((None, 1, 2))),
    st.tuples(st.just("layout"), POST, st.sampled_from((None, "page"))),
    st.tuples(st.just("featured"), POST, st.sampled_from((None, "avatar.jpg", "https://example.com/x.jpg"))),
    st.tuples(st.just("summary"), POST, st.sampled_from((None, "A summary by hand."))),
    st.tuples(st.just("theme"), st.sampled_from([v for variants in NIGHT_THEME.values() for v in variants])),
)
# more, and other, sequences: BITOPIA_INCREMENTAL_EXAMPLES=200 BITOPIA_INCREMENTAL_RANDOM=1
MAX_EXAMPLES = int(os.environ.get("BITOPIA_INCREMENTAL_EXAMPLES", "12"))


@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize="BITOPIA_INCREMENTAL_RANDOM" not in os.environ,
          database=None, print_blob=False, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(templates=st.sampled_from(("none", "post+base")), live=st.booleans(),
       steps=st.lists(st.lists(EDIT, min_size=1, max_size=2), min_size=1, max_size=6))
def test_random_edit_sequences(templates: str, live: bool, steps: list[list[tuple]]) -> None:
    """Random sequences of edits (one or two between builds), each build (`bitopia build`'s, or a
    dev server's LiveBuild) compared with a full one."""
    with tempfile.TemporaryDirectory(prefix="bitopia-incremental-") as base:
        harness = Harness(Path(base), SiteModel.initial(templates), live)
        harness.check()
        for edits in steps:
            harness.step(*edits)


# --- builds with other options, at other times, after a failed build -----------------------------

def test_options_and_time_between_builds(tmp_path: Path) -> None:
    """`bitopia build --drafts` then `bitopia build` into the same folder; a build a year later
    (a scheduled post comes out, another expires, the footer's year changes)."""
    harness = Harness(tmp_path, SiteModel.initial())
    harness.model.apply(("date", 0, DATES[7]))
    harness.model.apply(("expiry", 1, "2026-06-01"))
    sync(harness.site, harness.model.files())
    for options in (BuildOptions(now=FIXED_NOW, jobs=1, drafts=True, future=True),
                    BuildOptions(now=FIXED_NOW, jobs=1, base_url="http://127.0.0.1:8000/")):
        build(harness.site, harness.out, options)
        harness.check()
    assert_same_as_full_build_a_year_later(harness)


def test_failed_build_between(tmp_path: Path) -> None:
    """A broken edit fails the build and writes nothing; the fix (not the same as before) is
    built incrementally from the last good build."""
    harness = Harness(tmp_path, SiteModel.initial())
    harness.check()
    broken = harness.site / harness.model.posts[0].path
    broken.write_text(broken.read_text().replace(DATES[1], "2024-13-45"))
    with pytest.raises(BuildFailed):
        build(harness.site, harness.out, BuildOptions(now=FIXED_NOW, jobs=1))
    harness.step(("date", 0, DATES[6]), ("title", 1, "Fixed"))


# --- bugs this file once found, each kept as a minimal case (all fixed) -------------------------

def test_static_file_changed_with_same_size_and_mtime(tmp_path: Path) -> None:
    """A new version of a static file with the old one's size and mtime (restored with `cp -p`,
    `rsync -t` or `tar`, or a second edit within the same second on a file system with one-second
    time stamps) is still copied: the writer compares the ctime too (swap.same_copy). Once, size
    and mtime alone decided, and such a file was never copied."""
    model = SiteModel.initial()
    model.static["css/extra.css"] = "a { color: red; }\n"
    harness = Harness(tmp_path, model)
    css = harness.site / "static/css/extra.css"
    stamp = 1_700_000_000_000_000_000  # a whole second
    os.utime(css, ns=(stamp, stamp))
    harness.check()
    css.write_text("a { color: tan; }\n")
    os.utime(css, ns=(stamp, stamp))
    harness.log.append("static/css/extra.css: red -> tan, the same size, the same mtime")
    harness.check()


def test_post_changed_with_same_size_and_mtime(tmp_path: Path) -> None:
    """The same for a post: a typo fixed in the same second, on a file system with one-second
    stamps, is built. Once, a build whose input files all had the names, sizes and mtimes of the
    last build's stopped at once; the input state (sources.input_state) now holds ctimes too."""
    harness = Harness(tmp_path, SiteModel.initial())
    post = harness.site / harness.model.posts[0].path
    stamp = 1_700_000_000_000_000_000
    os.utime(post, ns=(stamp, stamp))
    harness.check()
    post.write_text(post.read_text().replace("emphasis", "emphasys"))
    os.utime(post, ns=(stamp, stamp))
    harness.log.append(f"{harness.model.posts[0].path}: emphasis -> emphasys, the same size, the same mtime")
    harness.check()


def test_new_year_without_edits(tmp_path: Path) -> None:
    """Every page's footer shows `site.build_year`: a build a year later with no file changed and
    no scheduled or expiring post shows the new year (the record's horizon is the next new year
    too; once it counted only post dates, and the footer kept the old year)."""
    model = SiteModel.initial()
    model.posts = [p for p in model.posts if not p.draft]  # no date in the future of FIXED_NOW
    harness = Harness(tmp_path, model)
    harness.check()
    assert_same_as_full_build_a_year_later(harness)


def test_output_file_deleted_by_hand(tmp_path: Path) -> None:
    """A page the last build wrote is deleted from the output folder (by hand, or by a tool
    that cleans it); the next incremental build still gives the full site (the record no longer
    describes the folder). Once, every later build failed with `cannot write the site: No such
    file or directory` until `bitopia clean`."""
    harness = Harness(tmp_path, SiteModel.initial())
    harness.check()
    (harness.out / "about/index.html").unlink()
    harness.log.append("output/about/index.html deleted by hand")
    harness.step(("body", 8, 1))


def test_spare_tree_lost_or_foreign(tmp_path: Path) -> None:
    """The tree before the current output is kept beside it (`.out.spare`) and patched into the
    next staging folder. A spare that is gone is made anew; one that holds another build is matched
    with the output file by file before it is used."""
    harness = Harness(tmp_path, SiteModel.initial())
    harness.check()
    harness.step(("body", 0, 2))
    spare = tmp_path / ".out.spare"
    assert (spare / MARKER).is_file(), "the previous output is kept as the spare"
    harness.step(("title", 1, "Zeta"))  # made from the spare
    shutil.rmtree(spare)
    harness.log.append("the spare folder deleted")
    harness.step(("body", 3, 5))
    (spare / MARKER).write_text("made by bitopia; replaced whole on every build\nsomething-else\n")
    (spare / "index.html").write_text("not this site")
    harness.log.append("the spare folder's marker and home page changed")
    harness.step(("body", 0, 4))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.spare", "out", "site"]


def test_first_build_makes_no_spare_and_the_next_build_links_its_staging_folder(tmp_path: Path) -> None:
    """A first build makes no second tree beside the output (a one-off build would never use it):
    the next build links its staging folder from the output in a child process while it reads and
    plans, then keeps the output it replaces as the spare. Builds into one output take turns (a
    lock); a spare whose marker is gone (cut short) is matched with the output before it is used."""
    harness = Harness(tmp_path, SiteModel.initial())
    harness.check()
    spare = tmp_path / ".out.spare"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "site"]
    first = output_id(harness.out)

    lock = Cache(harness.site, Report()).hold(record_key(harness.out)[0])
    assert lock is not None
    failures: list[BaseException] = []

    def next_build() -> None:
        try:
            harness.step(("body", 0, 2))
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test's thread
            failures.append(exc)

    waiting = threading.Thread(target=next_build)
    waiting.start()
    waiting.join(1.0)
    assert waiting.is_alive(), "a build went ahead while the lock was held"
    os.close(lock)
    waiting.join(60)
    assert not waiting.is_alive() and not failures, failures
    assert output_id(spare) == first != output_id(harness.out)  # the first build's output, kept
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.spare", "out", "site"]

    shutil.rmtree(spare)
    harness.log.append("the spare folder deleted")
    harness.step(("title", 1, "Zeta"))  # keeps the previous output as the spare
    (spare / MARKER).unlink()
    harness.log.append("the spare folder's marker deleted, as if its making had been cut short")
    harness.step(("body", 3, 5))


def test_build_in_place_between_staged_builds(tmp_path: Path) -> None:
    """A build in place (a dev server pointed at the same folder) changes the output file by file:
    the spare tree's record of how it differs from the output no longer holds, and the next staged
    build must not bring back a page as the spare had it."""
    harness = Harness(tmp_path, SiteModel.initial())
    harness.check()
    harness.step(("body", 1, 3))  # the spare is now the first build's tree
    harness.log.append(harness.model.apply(("body", 0, 2)))
    sync(harness.site, harness.model.files())
    assert build(harness.site, harness.out, BuildOptions(now=FIXED_NOW, jobs=1, in_place=True)).stats.written
    harness.log.append("built in place")
    harness.step(("body", 1, 4))


def test_live_build_saves_its_record_when_closed(tmp_path: Path) -> None:
    """A dev server's edits are not saved after each one; on close the record is, so the next
    server renders only what changed while none ran."""
    harness = Harness(tmp_path, SiteModel.initial(), live=True)
    harness.check()
    harness.step(("body", 0, 2))
    assert harness.updates == 1
    assert harness.live is not None
    harness.live.close()
    harness.live = LiveBuild(harness.site, harness.out, harness.live.options)
    assert harness.check().rendered == 0
    harness.live.close()
    harness.live = LiveBuild(harness.site, harness.out, harness.live.options)
    assert 0 < harness.step(("body", 8, 1)).rendered < 30  # a new server: a build, of the pages showing the post


def test_live_build_after_a_broken_save(tmp_path: Path) -> None:
    """A save that breaks a post (the error page shows) and the save that fixes it: the fixing
    build renders only the pages the edit touched, not the whole site."""
    harness = Harness(tmp_path, SiteModel.initial(), live=True)
    harness.check()
    harness.step(("body", 0, 2))  # applied in memory: the saved record is dropped until close
    assert harness.live is not None
    post = sorted((harness.site / "content/posts").glob("*.md"))[0]
    good = post.read_text()
    post.write_text("---\ntitle: [unclosed\n---\nBroken.\n")
    with pytest.raises(BuildFailed):
        harness.live.update({post.relative_to(harness.site).as_posix(): post}) or harness.live.build()
    post.write_text(good)
    result = harness.check([post.relative_to(harness.site).as_posix()])
    assert 0 <= result.rendered < result.pages / 4, (result.rendered, result.pages)


_TEXT = st.text(st.characters(blacklist_categories=("Cc",)), max_size=3)  # parts are joined with a control character
_CONTEXTS = st.recursive(st.none() | st.booleans() | st.integers() | _TEXT | st.sampled_from(["[1", "{1", "[0"]),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
                         max_leaves=8)


@given(_CONTEXTS, _CONTEXTS)
def test_different_page_contexts_never_share_a_fingerprint(a: Any, b: Any) -> None:
    """A fingerprint that two different contexts shared would leave a changed page unrendered:
    `{"a": [["x"], "y"]}` and `{"a": [["x", "y"]]}` once flattened alike."""
    finger = Fingerprinter({}, "")
    assert (finger.value(a) == finger.value(b)) == (repr(a) == repr(b))
    assert finger.value({"a": [["x"], "y"]}) != finger.value({"a": [["x", "y"]]})
    assert finger.value({"a": ["x"], "b": "y"}) != finger.value({"a": ["x", "b", "y"]})
    assert finger.value(["[1", "[0"]) != finger.value(["[1", []])  # a text that reads like a list's length


def _dicts_in(value: Any) -> list[dict[str, Any]]:
    found = [value] if type(value) is dict else []
    for item in (value.values() if type(value) is dict else value if type(value) is list else ()):
        found += _dicts_in(item)
    return found


@given(_CONTEXTS, st.data())
def test_a_steady_dict_flattened_once_gives_the_same_fingerprint(context: Any, data: st.DataObject) -> None:
    """Links (views.py) are flattened once a build and their text kept: a page's fingerprint is
    the one it would have had, the first time and every time after."""
    dicts = _dicts_in(context)
    steady = {id(d) for d in data.draw(st.lists(st.sampled_from(dicts), unique_by=id))} if dicts else set()
    plain, kept = Fingerprinter({}, ""), Fingerprinter({}, "", steady=steady)
    assert kept.value(context) == plain.value(context) == kept.value(context)
