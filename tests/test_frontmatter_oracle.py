"""Our front-matter splitter against python-frontmatter: every Markdown
file of the shared corpus and of this blog splits into the same metadata and body with both (read
with the same YAML loader, which keeps dates as text for us to parse). Ours is kept for what the
README says: the file's own line in each error, TOML and JSON without another package, speed."""

from __future__ import annotations

from pathlib import Path

import frontmatter as python_frontmatter
import pytest
import yaml
from frontmatter.default_handlers import YAMLHandler

from bitopia_site import frontmatter
from bitopia_site.errors import SiteError
from conftest import REPO, SHARED


class _SameLoader(YAMLHandler):
    """python-frontmatter's YAML handler, loading with our loader: only the splitting differs."""

    def load(self, fm: str, **kwargs: object) -> object:
        return yaml.load(fm, Loader=frontmatter._Loader)  # noqa: S506 - a safe loader


def _yaml_fenced_files() -> list[Path]:
    files = sorted((SHARED / "corpus").rglob("content/**/*.md")) + sorted((REPO / "content").rglob("*.md"))
    return [path for path in files
            if path.read_text(encoding="utf-8", errors="replace").lstrip("\ufeff").startswith("---")]


@pytest.mark.skipif(not (SHARED / "corpus").is_dir(), reason="needs ../shared/corpus")
def test_every_yaml_front_matter_splits_as_python_frontmatter_splits_it() -> None:
    files = _yaml_fenced_files()
    assert len(files) > 1000, "the shared corpus is missing"
    compared = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            meta, body, _ = frontmatter.split(text, str(path), required=False)
        except SiteError:
            with pytest.raises(yaml.YAMLError):  # both refuse it
                python_frontmatter.loads(text, handler=_SameLoader())
            continue
        theirs = python_frontmatter.loads(text, handler=_SameLoader())
        assert (theirs.metadata, theirs.content.strip()) == (meta, body.strip()), path
        compared += 1
    assert compared > 1000


def test_a_yaml_error_is_a_message_naming_the_file_and_line_where_python_frontmatter_raises_pyyaml_s() -> None:
    text = "---\ntitle: A post\ndate: 2020-01-01\ntags: [a, b\nauthor: x\n---\nBody\n"
    with pytest.raises(SiteError) as ours:
        frontmatter.split(text, "content/posts/x.md")
    assert ours.value.format().startswith("content/posts/x.md:5: invalid YAML in front matter:")
    assert ours.value.hint  # and what to do
    with pytest.raises(yaml.MarkedYAMLError) as theirs:  # a PyYAML exception, a traceback to the user
        python_frontmatter.loads(text)
    assert "x.md" not in str(theirs.value)
