"""A property: for random sites of published and unpublished pages (drafts, future dates and
publish dates, expired, headless bundles, `build: never`, a section's cascaded draft), no byte of an
unpublished page's text or of its bundle's files reaches any output of `build`, `check`,
`publish` or `serve` (without --drafts); every published page's text does."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitopia_site.build import BuildOptions
from bitopia_site.cli import main
from bitopia_site.incremental import live_builder
from bitopia_site.serve.server import DevServer

SITE_YAML = "title: Property\nbase_url: https://example.org/\n"
# Each kind of page: (front matter lines, whether it is published, whether it is a leaf bundle).
KINDS = {
    "published": ("date: 2020-01-01", True),
    "draft": ("date: 2020-01-01\ndraft: true", False),
    "future": ("date: 2099-01-01", False),
    "publish-date": ("date: 2020-01-01\npublishDate: 2099-01-01", False),
    "expired": ("date: 2020-01-01\nexpiryDate: 2021-01-01", False),
    "headless": ("date: 2020-01-01\nheadless: true", False),
    "never": ("date: 2020-01-01\nbuild: {render: never, list: never}", False),
    "cascaded": ("date: 2020-01-01", False),  # in content/hidden/, whose _index.md cascades draft: true
}

pages = st.lists(st.tuples(st.sampled_from(sorted(KINDS)), st.booleans(), st.sampled_from(["a", "b", "a b"])),
                 min_size=1, max_size=6)


def make_site(root: Path, chosen: list[tuple[str, bool, str]]) -> tuple[list[bytes], list[bytes]]:
    """Write the site; (tokens that must show, tokens that must not)."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "content" / "hidden").mkdir(parents=True)
    (root / "site.yaml").write_text(SITE_YAML)
    (root / "content" / "hidden" / "_index.md").write_text("---\ntitle: Hidden\ncascade: {draft: true}\n---\n")
    (root / "content" / "posts").mkdir()
    (root / "content" / "posts" / "anchor.md").write_text("---\ntitle: Anchor\ndate: 2019-01-01\n---\nanchor\n")
    shown, hidden = [], []
    for number, (kind, bundle, tags) in enumerate(chosen):
        front, published = KINDS[kind]
        token = f"TOKEN{number:02d}{kind.replace('-', '').upper()}"
        folder = root / "content" / ("hidden" if kind == "cascaded" else "posts")
        name = f"p{number}"
        text = (f"---\ntitle: Title {token}\n{front}\ntags: [{tags}]\nsummary: Summary {token}\n---\n"
                f"Body {token}.\n")
        if bundle or kind == "headless":
            (folder / name).mkdir()
            (folder / name / "index.md").write_text(text)
            (folder / name / "file.txt").write_text(f"File {token}\n")
        else:
            (folder / f"{name}.md").write_text(text)
        (shown if published else hidden).append(token.encode())
    return shown, hidden


def output_bytes(folder: Path) -> bytes:
    return b"\n".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


def assert_only_published(data: bytes, shown: list[bytes], hidden: list[bytes]) -> None:
    assert [token for token in hidden if token in data] == []
    assert [token for token in shown if token not in data] == []


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=pages)
def test_build_and_publish_leave_out_every_unpublished_byte(tmp_path: Path, chosen: list) -> None:
    site = tmp_path / "site"
    shown, hidden = make_site(site, chosen)
    runner = CliRunner()
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    result = runner.invoke(main, ["build", "-s", str(site), "-o", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert_only_published(output_bytes(out), shown, hidden)
    target = tmp_path / "www" / "blog"
    shutil.rmtree(target.parent, ignore_errors=True)
    target.parent.mkdir()
    result = runner.invoke(main, ["publish", "-s", str(site), str(target)])
    assert result.exit_code == 0, result.output
    assert_only_published(output_bytes(target.resolve()), shown, hidden)
    result = runner.invoke(main, ["check", "-s", str(site)])
    assert result.exit_code == 0, result.output
    assert [token for token in hidden if token.decode() in result.output] == []


def test_serve_without_drafts_shows_no_unpublished_byte(tmp_path: Path) -> None:
    """One site with every kind twice (a page and a bundle): the server's folder and its answers."""
    site = tmp_path / "site"
    chosen = [(kind, bundle, "a") for kind in sorted(KINDS) for bundle in (False, True)]
    shown, hidden = make_site(site, chosen)
    server = DevServer(site, live_builder(site, BuildOptions(drafts=False, future=False)), port=0).start()
    try:
        served = []
        for path in sorted(p for p in server.out.rglob("*") if p.is_file() and not p.name.startswith(".")):
            rel = path.relative_to(server.out).as_posix()
            url = f"http://127.0.0.1:{server.port}/{rel.removesuffix('index.html')}"
            with urllib.request.urlopen(url, timeout=10) as answer:
                served.append(answer.read())
        assert_only_published(b"\n".join(served), shown, hidden)
        assert_only_published(output_bytes(server.out), shown, hidden)
        for number, (kind, bundle, _) in enumerate(chosen):
            if not KINDS[kind][1]:
                folder = "hidden" if kind == "cascaded" else "posts"
                if bundle or kind == "headless":
                    url = f"http://127.0.0.1:{server.port}/{folder}/p{number}/file.txt"
                    try:
                        urllib.request.urlopen(url, timeout=10)
                        raise AssertionError(f"{url} was served")
                    except urllib.error.HTTPError as exc:
                        assert exc.code == 404
    finally:
        server.close()
