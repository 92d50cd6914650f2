"""Markdown in a Hugo site renders as Hugo's Goldmark renders it. Each expected value below is what
Hugo 0.168 printed for the same Markdown (a page of `{{ .Content }}`), not what we think it does."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bitopia_site import markup
from bitopia_site.cli import main

# Markdown heading -> the id Hugo gave it (None: Hugo wrote the heading with no id).
HEADING_IDS = {
    "## Don't Have To, by X": "dont-have-to-by-x",
    "## [Don't Have To, by X](http://x)": "don",  # a link's text: its first child, cut at a curly quote
    '## [a "b" c](/x) d': "a--d",
    '## *a "b" c* d': "a--d-1",
    "## [x *a* b'c d](/x) e": "x--e",  # ... and cut where another element starts
    "## [x `a` b c](/x) e": "x--e-1",
    "## [*a'b c* d](/x) e": "a-e",
    "## **a -- b** c": "a--c",
    "## **a &amp; b** c": "a--b-c",
    '## A "cash machine"': "a-cash-machine",
    '## `a "b"` c': "a-b-c",
    '## **"a"** b': "-b",
    "## a ![alt](x.png) b": "a-alt-b",
    "## !!!": "heading",  # no letter nor digit
    '## ["a" b](x)': "heading-1",
    "## a[^1]\n\n[^1]: x": "a",
    "## [Age—and Don't](x)": "ageand-don",  # a dash or quote typed as such is text
    "## _It’s either A_ by B": "its-either-a-by-b",
    "## A -- B": "a--b",
    "####": None,  # an empty heading
}


@pytest.mark.parametrize("markdown, ident", HEADING_IDS.items())
def test_heading_ids_are_goldmarks(markdown: str, ident: str | None) -> None:
    # every case after its predecessors, so that duplicates are numbered as in one page
    cases = list(HEADING_IDS)
    text = "\n\n".join(cases[:cases.index(markdown) + 1])
    body = markup.render(text, hugo_ids=True).html
    last = body.split("<h")[-1]
    if ident is None:
        assert last.startswith("4>"), body
    else:
        assert last.split(">", 1)[0].startswith(f'2 id="{ident}"'), body


def test_a_hugo_sites_headings_take_goldmarks_ids(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content" / "post").mkdir(parents=True)
    (site / "hugo.toml").write_text('baseURL = "https://example.org/"\ntitle = "T"\n')
    (site / "content" / "post" / "h.md").write_text(
        "---\ntitle: H\n---\n## [Flann O'Brien, fiction](https://example.org/b)\n\n####\n\n## !!!\n")
    result = CliRunner().invoke(main, ["build", "-s", str(site), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / "post" / "h" / "index.html").read_text()
    assert '<h2 id="flann-o">' in page and '<h2 id="heading">' in page and "<h4></h4>" in page
