"""Hostile and odd inputs through the CLI: a clear message or a sensible page, never a traceback,
never damage to the previous output. The corpus is tests/hostile/<case>/ (files below a site root);
big inputs, links and the like are made here at test time."""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bitopia_site.build import BuildOptions, build
from bitopia_site.cli import main
from bitopia_site.copier import read_ahead
from conftest import FIXED_NOW, SITES

HOSTILE = Path(__file__).resolve().parent / "hostile"
SITE_YAML = "title: Hostile\nbase_url: https://example.org/\n"
POSTS = "content/posts"


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` with its bytes, the writer's marker included."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def make_site(tmp_path: Path, case: str | None = None, files: dict[str, str | bytes] | None = None) -> Path:
    """A site: site.yaml, the corpus folder `case` (if any) and `files` (site-relative path -> text)."""
    site = tmp_path / "site"
    if case:
        shutil.copytree(HOSTILE / case, site, symlinks=True)
    site.mkdir(exist_ok=True)
    (site / "site.yaml").write_text(SITE_YAML)
    for rel, data in (files or {}).items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return site


def cli_build(site: Path, out: Path, *extra: str) -> Result:
    result = CliRunner().invoke(main, ["build", "-s", str(site), "-o", str(out), *extra])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def errors_of(result: Result) -> list[str]:
    return [line.removeprefix("error: ") for line in result.output.splitlines() if line.startswith("error: ")]


@pytest.fixture(scope="module")
def previous_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output of an earlier, good build (the sample site), to copy before each failing build."""
    out = tmp_path_factory.mktemp("previous") / "output"
    build(SITES / "sample", out, BuildOptions(now=FIXED_NOW, jobs=1))
    return out


def assert_fails(site: Path, tmp_path: Path, previous: Path, expected: list[str]) -> None:
    """The build exits 1 printing exactly `expected`, and leaves the previous output byte for byte."""
    out = tmp_path / "output"
    shutil.copytree(previous, out)
    before = tree(out)
    result = cli_build(site, out)
    assert result.exit_code == 1, result.output
    assert errors_of(result) == expected
    assert result.output.rstrip().endswith("nothing was written, the previous output is as it was.")
    assert tree(out) == before
    # A spare may stay (spare.py: a linked copy of the output, made while the build ran, for the next build).
    left = [p.name for p in out.parent.iterdir() if p.name.startswith(".output") and p.name != ".output.spare"]
    assert not left, "a staging folder was left"


def built(site: Path, tmp_path: Path, *extra: str) -> tuple[Path, Result]:
    out = tmp_path / "output"
    result = cli_build(site, out, *extra)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    return out, result


def text(out: Path, rel: str) -> str:
    return (out / rel).read_text(encoding="utf-8")


# -- inputs that must fail with one clear message per problem --------------------------------------

URL_HINT = "write the URL as a path on this site, like /2014/08/06/my-post/"
FAILING = {
    "broken-yaml": [
        "content/posts/broken-yaml.md:5: invalid YAML in front matter: did not find expected ',' or ']' — "
        "check quoting and indentation (a value with `: ` in it needs quotes)",
        "content/posts/colon-in-title.md:2: invalid YAML in front matter: mapping values are not allowed in this "
        "context — check quoting and indentation (a value with `: ` in it needs quotes)",
    ],
    "latin1": ["content/posts/latin1.md:2: is not UTF-8 text (byte 0xe9) — save the file as UTF-8"],
    "query-url": [f"content/posts/wordpress.md:4: url `/?p=123` has a query string (`?p=123`), which a static "
                  f"file path cannot hold — {URL_HINT}"],
    "nul-byte": ["content/posts/nul.md:6: contains a NUL byte — remove it; it is not text"],
    "zero-byte": ["content/posts/empty.md:1: no front matter found — start the file with a `---` line, then "
                  "`title: ...`, then `---`"],
    "term-slugs-to-nothing": ['content/posts/punctuation.md:4: tags term "?!" has no letters or digits to make a '
                              'URL from — use a term with at least one letter or digit'],
    "backslash-url": ["content/posts/windows.md:4: url `\\2014\\08\\windows\\` has backslashes; a URL path is "
                      f"written with forward slashes (/) — {URL_HINT}"],
    "featured-dotdot": ["content/posts/passwd.md:4: featured image path `img/../../etc/passwd` climbs out of the "
                        "site with `..` — name an image inside the site, like photo.jpg"],
    "json-lone-surrogate": ["content/posts/json.md:1: invalid JSON front matter: a \\u escape names half a "
                            "character (a lone surrogate) — write the character itself, or both halves of its "
                            "\\u escape"],
    "yaml-billion-laughs": ["content/posts/laughs.md:2: front matter has more than 100,000 values once its YAML "
                            "aliases (`*name`) are expanded — write the values out instead of nesting aliases"],
    "term-too-long": [f"content/posts/long-tag.md:4: tags term URL `/tags/{'verylongword' * 6}v…` is too long for "
                      "a file path (at most 255 bytes between slashes, 2000 in all) — use a shorter term, and plain "
                      "words for the taxonomies in site.yaml"],
    "url-is-output-marker": [f"content/posts/marker.md:4: url `/.bitopia-output/` is where bitopia marks its output "
                             f"folder — {URL_HINT}"],
    "url-too-long": [f"content/posts/long.md:4: url `/{'a' * 78}…` is too long for a file path (at most 255 bytes "
                     f"between slashes, 2000 in all) — {URL_HINT}"],
}


@pytest.mark.parametrize("case", sorted(FAILING))
def test_hostile_input_fails_with_exact_message(case: str, tmp_path: Path, previous_output: Path) -> None:
    assert_fails(make_site(tmp_path, case), tmp_path, previous_output, FAILING[case])



def test_alias_over_a_static_file_is_a_clash_naming_the_post(tmp_path: Path, previous_output: Path) -> None:
    out = tmp_path / "output"
    shutil.copytree(previous_output, out)
    before = tree(out)
    result = cli_build(make_site(tmp_path, "alias-over-stylesheet"), out)
    assert result.exit_code == 1 and tree(out) == before
    assert [line.split(":")[0] for line in errors_of(result)] == ["content/posts/css.md (alias)"]



def test_url_below_another_pages_file_is_a_clash_naming_both(tmp_path: Path, previous_output: Path) -> None:
    out = tmp_path / "output"
    shutil.copytree(previous_output, out)
    result = cli_build(make_site(tmp_path, "url-below-a-page-file"), out)
    assert result.exit_code == 1
    [error] = errors_of(result)
    assert error.startswith("content/posts/") and "content/posts/a.md" in error and "content/posts/b.md" in error


def test_post_linking_out_of_the_site_is_refused(tmp_path: Path, previous_output: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: SECRET-TITLE\ndate: 2020-01-01\n---\nSECRET-BODY\n")
    site = make_site(tmp_path, files={f"{POSTS}/fine.md": "---\ntitle: Fine\ndate: 2020-01-01\n---\nok\n"})
    os.symlink(secret, site / POSTS / "linked.md")
    os.symlink(tmp_path, site / POSTS / "linked-folder")  # refused, never followed
    assert_fails(site, tmp_path, previous_output, [
        f"content/posts/linked-folder: is a link to {tmp_path}, outside the site — copy what it links to into "
        "the site instead of linking to it",
        f"content/posts/linked.md: is a link to {secret}, outside the site — copy what it links to into the site "
        "instead of linking to it"])


def test_taxonomy_named_to_climb_out_cannot_write_outside(tmp_path: Path, previous_output: Path) -> None:
    site = make_site(tmp_path, files={f"{POSTS}/a.md": "---\ntitle: A\ndate: 2020-01-01\n'../escape': [a]\n---\nx\n"})
    (site / "site.yaml").write_text(SITE_YAML + "taxonomies: ['../escape']\n")
    assert_fails(site, tmp_path, previous_output, [
        "content/posts/a.md:4: ../escape term URL `/../escape/a/` climbs out of the site with `..` — use a shorter "
        "term, and plain words for the taxonomies in site.yaml"])
    assert not (tmp_path / "escape").exists()


def test_menu_items_that_are_not_mappings_are_a_clear_error(tmp_path: Path, previous_output: Path) -> None:
    site = make_site(tmp_path, files={f"{POSTS}/a.md": "---\ntitle: A\ndate: 2020-01-01\n---\nx\n"})
    (site / "site.yaml").write_text(SITE_YAML + "menus: {main: [1, 2]}\n")
    out = tmp_path / "output"
    result = cli_build(site, out)
    assert result.exit_code == 1 and errors_of(result)[0].startswith("site.yaml")


def test_named_pipe_in_the_site_is_refused_not_read(tmp_path: Path, previous_output: Path) -> None:
    """Reading a pipe blocks for ever: it was a build that never ended."""
    site = make_site(tmp_path, files={f"{POSTS}/fine.md": "---\ntitle: Fine\ndate: 2020-01-01\n---\nok\n"})
    os.mkfifo(site / POSTS / "pipe.md")
    (site / "static").mkdir()
    os.mkfifo(site / "static" / "feed.fifo")
    assert_fails(site, tmp_path, previous_output, [
        "content/posts/pipe.md: is not a regular file (a pipe, socket or device) — remove it from the site folder",
        "static/feed.fifo: is not a regular file (a pipe, socket or device) — remove it from the site folder"])


def test_read_ahead_passes_over_what_is_not_a_regular_file(tmp_path: Path) -> None:
    """Builds ask the kernel to read their files ahead (a hint); opening a pipe for that would block,
    so a pipe, a folder, a missing file and a link to a pipe are passed over without an error."""
    os.mkfifo(tmp_path / "pipe.md")
    (tmp_path / "folder.md").mkdir()
    (tmp_path / "link.md").symlink_to(tmp_path / "pipe.md")
    (tmp_path / "fine.md").write_text("ok\n")
    names = ["pipe.md", "folder.md", "missing.md", "link.md", "fine.md"]
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            read_ahead([str(tmp_path / name) for name in names])
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(10)
    assert not asking.is_alive(), "read_ahead blocked"
    assert not failures, failures


def test_ten_thousand_tags_on_one_post_is_a_clear_error(tmp_path: Path, previous_output: Path) -> None:
    tags = "".join(f"  - tag {i}\n" for i in range(10_000))
    site = make_site(tmp_path, files={f"{POSTS}/tags.md": f"---\ntitle: Tags\ndate: 2020-01-01\ntags:\n{tags}---\nx\n"})
    assert_fails(site, tmp_path, previous_output, [
        "content/posts/tags.md:4: has 10,000 tags; a post can have at most 100 — keep the tags that say what the "
        "post is about"])


# -- inputs that must build a sensible page ----------------------------------------------------------

def test_spaces_and_diacritics_in_file_name(tmp_path: Path) -> None:
    out, _ = built(make_site(tmp_path, "spaces-and-diacritics"), tmp_path)
    page = text(out, "2020/01/03/mon-été-à-zürich/index.html")
    assert "<title>Mon été à Zürich · Hostile</title>" in page and "<p>Un été très chaud.</p>" in page
    assert 'href="/2020/01/03/mon-%C3%A9t%C3%A9-%C3%A0-z%C3%BCrich/"' in text(out, "index.html")
    assert "<loc>https://example.org/2020/01/03/mon-%C3%A9t%C3%A9-%C3%A0-z%C3%BCrich/</loc>" in text(out, "sitemap.xml")


def test_date_year_one_builds_with_a_four_digit_year(tmp_path: Path) -> None:
    out, _ = built(make_site(tmp_path, "date-0001"), tmp_path)
    page = text(out, "0001/01/01/year-one/index.html")
    assert "<title>Year One · Hostile</title>" in page and "The oldest post there is." in page
    assert 'datetime="0001-01-01T00:00:00+00:00"' in page
    assert 'href="/0001/01/01/year-one/"' in text(out, "index.html")
    assert (out / "archives/1/01/index.html").is_file()


def test_year_9999_is_a_future_post_left_out_unless_future(tmp_path: Path) -> None:
    site = make_site(tmp_path, "year-9999")
    out, _ = built(site, tmp_path)
    assert not (out / "9999").exists()
    assert all(b"From the Far Future" not in data for data in tree(out).values())
    assert "Present Day" in text(out, "index.html")
    out, _ = built(site, tmp_path, "--future")
    page = text(out, "9999/12/31/far-future/index.html")
    assert "<title>From the Far Future · Hostile</title>" in page
    assert 'datetime="9999-12-31T23:59:59-05:00"' in page
    assert text(out, "index.html").index("From the Far Future") < text(out, "index.html").index("Present Day")


@pytest.mark.parametrize("case, url, title, paragraphs", [
    ("crlf", "2020/01/04/crlf", "Windows Line Ends", ["First paragraph.", "Second paragraph."]),
    ("mixed-line-ends", "2020/01/10/mixed", "Mixed Line Ends", ["One line.\nStill the first paragraph.",
                                                                  "Second paragraph."]),
    ("bom", "2020/01/09/bom", "Byte Order Mark", ["Saved by Notepad."]),
])
def test_line_ends_and_bom_build(case: str, url: str, title: str, paragraphs: list[str], tmp_path: Path) -> None:
    out, _ = built(make_site(tmp_path, case), tmp_path)
    page = text(out, f"{url}/index.html")
    assert f"<title>{title} · Hostile</title>" in page
    assert re.findall(r'<div class="content">(.*?)</div>', page, re.S) == [
        "".join(f"<p>{p}</p>\n" for p in paragraphs)]
    for path, data in tree(out).items():
        if not path.endswith(".ico"):  # text only: the theme's icon is binary, and may hold the byte 0x0d
            assert b"\r" not in data and "\ufeff".encode() not in data
    if case == "crlf":
        assert (out / "tags/windows/index.html").is_file()


def test_directory_named_like_a_post_is_a_folder_not_a_post(tmp_path: Path) -> None:
    out, result = built(make_site(tmp_path, "directory-named-like-post"), tmp_path)
    assert "(1 post," in result.output
    assert "Next to a folder called odd.md." in text(out, "2020/01/05/real/index.html")
    assert not [p for p in tree(out) if "odd" in p]


def test_terms_that_slug_alike_are_one_term_page(tmp_path: Path) -> None:
    out, result = built(make_site(tmp_path, "terms-slug-alike"), tmp_path)
    assert "1 term;" in result.output
    assert sorted(p for p in tree(out) if p.startswith("tags/")) == [
        "tags/code-tech/index.html", "tags/code-tech/index.xml", "tags/code-tech/page/1/index.html",
        "tags/index.html", "tags/index.xml"]
    term = text(out, "tags/code-tech/index.html")
    assert 'href="/2020/01/06/one/"' in term and 'href="/2020/01/07/two/"' in term


def test_raw_html_with_a_bogus_marked_section_builds(tmp_path: Path) -> None:
    """`<![alt](x.png)` in a raw HTML block is a bogus comment to a browser (it was an AssertionError
    from html.parser, a traceback); the page around it stays whole."""
    out, _ = built(make_site(tmp_path, "raw-html-marked-section"), tmp_path)
    page = text(out, "2020/01/01/marked/index.html")
    assert ('<div class="content"><div class="note">\n<!--[alt](../../x.png) and <![CDATA[kept]]-->\n</div>\n'
            "<p>After the note.</p>\n</div>") in page


def test_177_kb_post_builds_whole(tmp_path: Path) -> None:
    body = "".join(f"Paragraph {i}: " + "a migrated sentence of the old blog. " * 12 + "\n\n" for i in range(384))
    site = make_site(tmp_path, files={f"{POSTS}/long.md": f"---\ntitle: Long\ndate: 2020-01-01\n---\n{body}THE END\n"})
    assert 175_000 < (site / POSTS / "long.md").stat().st_size < 180_000
    out, _ = built(site, tmp_path)
    page = text(out, "2020/01/01/long/index.html")
    assert page.count("<p>Paragraph ") == 384 and "<p>THE END</p>" in page


def test_5_mb_post_builds_whole(tmp_path: Path) -> None:
    chunk = "## Section {i}\n\nSome *emphasis*, a [link](https://example.net/{i}) and `code`. " + "Words " * 80 + "\n\n"
    body = "".join(chunk.format(i=i) for i in range(9_000))
    site = make_site(tmp_path, files={f"{POSTS}/huge.md": f"---\ntitle: Huge\ndate: 2020-01-01\n---\n{body}THE END\n"})
    assert (site / POSTS / "huge.md").stat().st_size > 5_000_000
    out, _ = built(site, tmp_path)
    page = text(out, "2020/01/01/huge/index.html")
    assert page.count('<h2 id="section-') == 9_000 and '<h2 id="section-8999">' in page and "<p>THE END</p>" in page


def test_title_of_10000_characters_builds(tmp_path: Path) -> None:
    title = ("Ünïcode & <angle> " * 600)[:10_000].strip()
    site = make_site(tmp_path, files={f"{POSTS}/long-title.md": f"---\ntitle: '{title}'\ndate: 2020-01-01\n---\nx\n"})
    out, _ = built(site, tmp_path)
    page = text(out, "2020/01/01/long-title/index.html")
    escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f"<title>{escaped} · Hostile</title>" in page
    assert "<angle>" not in page


# -- templates: no reading outside the site, everything escaped that is not meant to be HTML --------

@pytest.mark.parametrize("tag", ['{% include "../../secret.txt" %}', '{% extends "../secret.txt" %}',
                                 '{% include "/etc/passwd" %}'])
def test_template_cannot_read_outside_the_site(tag: str, tmp_path: Path, previous_output: Path) -> None:
    (tmp_path / "secret.txt").write_text("SECRET-FILE")
    site = make_site(tmp_path, files={
        f"{POSTS}/p.md": "---\ntitle: P\ndate: 2020-01-01\n---\nx\n",
        "templates/post.html": f"<p>before</p>\n{tag}\n"})
    name = tag.split('"')[1]
    out = tmp_path / "output"
    shutil.copytree(previous_output, out)
    before = tree(out)
    result = cli_build(site, out)
    assert result.exit_code == 1
    assert errors_of(result) == [f"templates/post.html:2: template `{name}` not found — check the name in the "
                                 "include or extends"]
    assert tree(out) == before and "SECRET-FILE" not in result.output


def test_layout_in_front_matter_cannot_name_a_file_outside(tmp_path: Path, previous_output: Path) -> None:
    (tmp_path / "secret.html").write_text("SECRET-FILE")
    post = "---\ntitle: P\ndate: 2020-01-01\nlayout: ../../../secret\n---\nx\n"
    site = make_site(tmp_path, files={f"{POSTS}/p.md": post})
    assert_fails(site, tmp_path, previous_output, [
        "content/posts/p.md: template `../../../secret.html` not found — create it in templates/ or in the theme, "
        "or fix the `layout:` in front matter"])


XSS = "</title><script>alert(1)</script>"


def _tiny_jpeg() -> bytes:
    from PIL import Image

    data = io.BytesIO()
    Image.new("RGB", (4, 4)).save(data, "JPEG")
    return data.getvalue()


def test_script_in_any_text_field_renders_as_text_everywhere(tmp_path: Path) -> None:
    post = (f"---\ntitle: '{XSS}'\ndate: 2020-01-01\nauthor: '{XSS}'\ndescription: '{XSS}'\n"
            f"tags: ['{XSS}', '\"><script>alert(1)</script>']\ncategories: ['{XSS}']\nseries: ['{XSS}']\n"
            f"featured: x.jpg\nfeaturedalt: '\"><script>alert(1)</script>'\nslug: safe\n---\n"
            "Look: `<script>alert(1)</script>` and &lt;script&gt;alert(1)&lt;/script&gt; as text.\n")
    second = f"---\ntitle: Second\ndate: 2020-01-02\nseries: ['{XSS}']\ntags: ['{XSS}']\n---\nTwo.\n"
    site = make_site(tmp_path, files={f"{POSTS}/xss.md": post, f"{POSTS}/second.md": second,
                                      "static/img/x.jpg": _tiny_jpeg()})
    (site / "site.yaml").write_text(SITE_YAML + "feed_full_content: true\n")
    out, _ = built(site, tmp_path)
    files = tree(out)
    assert "2020/01/01/safe/index.html" in files
    page = text(out, "2020/01/01/safe/index.html")
    assert "<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; · Hostile</title>" in page
    assert 'alt="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    feed = text(out, "index.xml")
    assert "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in feed
    for path, data in files.items():  # every output file, pages, feeds, sitemap and all
        assert b"<script>alert(1)" not in data, f"raw script in {path}"
        assert b"</title><script>" not in data, f"raw title in {path}"
    assert sum(path.endswith((".html", ".xml")) for path in files) > 20


# -- --strict on the real blog and the bundled site --------------------------------------------------

def test_strict_bundled_site_has_no_warnings(bundled_site: Path, tmp_path: Path) -> None:
    result = cli_build(bundled_site, tmp_path / "out", "--strict")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Built ") and "warning" not in result.output


def test_strict_real_blog_fails_on_its_warnings_the_hugo_theme_and_its_broken_links(real_blog: Path,
                                                                                     tmp_path: Path) -> None:
    result = cli_build(real_blog, tmp_path / "public", "--strict")
    assert result.exit_code == 1
    errors = errors_of(result)
    assert errors[0] == (
        "config.toml: theme `hugo-future-imperfect-slim` is a Hugo theme, which bitopia cannot run; building with "
        "the default theme `bitopia` — set `theme:` in a site.yaml to use another bitopia theme")
    assert len(errors) == 6 and all(": links to " in error for error in errors[1:]), errors  # the blog's own
    assert not (tmp_path / "public").exists()
