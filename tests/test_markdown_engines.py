"""`markdown_engine: markdown-it-py` in site.yaml: the site's Markdown rendered by markdown-it-py,
then given heading ids, highlighting and a summary as with cmark-gfm (the default); an unknown
engine, or markdown-it-py not installed, is an error naming site.yaml and what to do."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bitopia_site.build import BuildOptions, build
from bitopia_site.cli import main
from bitopia_site.errors import BuildFailed
from conftest import FIXED_NOW

POST = """---
title: "Engine test"
date: 2020-05-01T10:00:00Z
tags: [test]
---
Some "quoted" text -- a dash... and ~~struck~~ words.

## A heading

| a | b |
|---|---|
| 1 | 2 |

```python
def f(x):
    return x
```
"""


def _with_engine(site: Path, engine: str) -> Path:
    with open(site / "site.yaml", "a", encoding="utf-8") as handle:
        handle.write(f"\nmarkdown_engine: {engine}\n")
    (site / "content" / "posts" / "engine-test.md").write_text(POST, encoding="utf-8")
    return site


def _post_html(out: Path) -> str:
    return (out / "2020" / "05" / "01" / "engine-test" / "index.html").read_text(encoding="utf-8")


def test_markdown_it_py_renders_the_site_with_ids_highlighting_and_a_summary(bundled_site: Path, tmp_path: Path) -> None:
    summary = build(_with_engine(bundled_site, "markdown-it-py"), tmp_path / "out", BuildOptions(now=FIXED_NOW, jobs=1))
    page = _post_html(tmp_path / "out")
    assert "<p>Some “quoted” text – a dash… and <s>struck</s> words.</p>" in page  # markdown-it's typographer
    assert '<h2 id="a-heading">' in page and '<td>1</td>' in page
    assert '<span class="k">def</span>' in page  # Pygments, as with cmark-gfm
    home = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "Engine test" in home and "Some “quoted” text" in home  # the card's summary
    assert summary.pages > 10 and not [w for w in summary.warnings if "engine-test" in (w.path or "")]


def test_the_default_engine_is_cmark_gfm(bundled_site: Path, tmp_path: Path) -> None:
    build(_with_engine(bundled_site, "cmark-gfm"), tmp_path / "out", BuildOptions(now=FIXED_NOW, jobs=1))
    assert "<del>struck</del>" in _post_html(tmp_path / "out")  # cmark-gfm's strikethrough


def test_an_unknown_engine_is_an_error_naming_site_yaml_and_the_engines(bundled_site: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", "-s", str(_with_engine(bundled_site, "markdown_it")),
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "site.yaml: unknown markdown_engine `markdown_it`" in result.output
    assert "cmark-gfm, markdown-it-py" in result.output
    assert not (tmp_path / "out").exists()


def test_markdown_it_py_missing_is_an_error_that_says_how_to_install_it(bundled_site: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "markdown_it", None)  # what `import markdown_it` meets where it is not installed
    with pytest.raises(BuildFailed) as failed:
        build(_with_engine(bundled_site, "markdown-it-py"), tmp_path / "out", BuildOptions(now=FIXED_NOW, jobs=1))
    message = failed.value.errors[0].format()
    assert message.startswith("site.yaml: markdown_engine: markdown-it-py, but the markdown-it-py package is not installed")
    assert "pip install 'bitopia-site[markdown-it-py]'" in message
