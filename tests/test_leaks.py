"""Nothing leaves the site that should not: files linked from outside it, unpublished pages and
their bundles' files, and what a theme's templates could reach. Each case through the CLI: a clear
message naming the file, no traceback, the previous output as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bitopia_site.cli import main
from test_hostile import POSTS, SITE_YAML, assert_fails, cli_build, make_site, previous_output, tree  # noqa: F401

SECRET = "SECRET-6b1f"
POST = "---\ntitle: Fine\ndate: 2020-01-01\n---\nok\n"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A folder outside the site holding a file no build may publish."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "id_rsa").write_text(f"{SECRET}\n")
    return folder


def leaked(out: Path) -> list[str]:
    """The output files holding the secret."""
    return [rel for rel, data in tree(out).items() if SECRET.encode() in data] if out.exists() else []


def refusal(link: str, target: Path) -> str:
    return (f"{link}: is a link to {target}, outside the site — copy what it links to into the site instead of "
            "linking to it")


def test_static_publishes_the_dotfiles_hosts_read_and_no_other_hidden_file(tmp_path: Path) -> None:
    """As Hugo, `.well-known/`, `.htaccess` and `.nojekyll` in static/ are published; an editor's
    swap file, a `.env`, a `.git/` folder, and hidden files elsewhere, are not."""
    site = make_site(tmp_path, files={
        f"{POSTS}/fine.md": POST, "static/.htaccess": "ErrorDocument 404 /404.html\n", "static/.nojekyll": "",
        "static/.well-known/security.txt": "Contact: mailto:x@example.org\n", "static/.env": f"TOKEN={SECRET}\n",
        "static/.git/config": SECRET, "static/css/.site.css.swp": SECRET, "content/.well-known/x.txt": SECRET})
    out = tmp_path / "out"
    assert cli_build(site, out).exit_code == 0
    files = tree(out)
    assert {".htaccess", ".nojekyll", ".well-known/security.txt"} <= files.keys()
    assert leaked(out) == []


# 1. Links out of the site: in static/, a theme's static/, and the folders themselves.

def test_a_file_in_static_linking_out_of_the_site_is_refused(tmp_path: Path, previous_output: Path,
                                                             secret: Path) -> None:
    site = make_site(tmp_path, files={f"{POSTS}/fine.md": POST, "static/ok.txt": "fine"})
    os.symlink(secret / "id_rsa", site / "static" / "passwd.txt")
    assert_fails(site, tmp_path, previous_output, [refusal("static/passwd.txt", secret / "id_rsa")])


def test_a_folder_in_static_linking_out_of_the_site_is_refused(tmp_path: Path, previous_output: Path,
                                                               secret: Path) -> None:
    site = make_site(tmp_path, files={f"{POSTS}/fine.md": POST, "static/ok.txt": "fine"})
    os.symlink(secret, site / "static" / "keys")
    assert_fails(site, tmp_path, previous_output, [refusal("static/keys", secret)])


@pytest.mark.parametrize("folder", ["static", "content"])
def test_static_or_content_itself_linking_out_of_the_site_is_refused(tmp_path: Path, previous_output: Path,
                                                                     secret: Path, folder: str) -> None:
    site = make_site(tmp_path, files={f"{POSTS}/fine.md": POST} if folder == "static" else {})
    (secret / "post.md").write_text(POST)
    os.symlink(secret, site / folder)
    assert_fails(site, tmp_path, previous_output, [refusal(folder, secret)])


def test_a_theme_static_file_linking_out_of_the_theme_is_refused(tmp_path: Path, previous_output: Path,
                                                                 secret: Path) -> None:
    site = make_site(tmp_path, files={f"{POSTS}/fine.md": POST, "themes/mine/templates/.keep": "",
                                      "themes/mine/static/css/ok.css": "body {}"})
    (site / "site.yaml").write_text(SITE_YAML + "theme: mine\n")
    os.symlink(secret / "id_rsa", site / "themes/mine/static/css/key.css")
    assert_fails(site, tmp_path, previous_output, [refusal("themes/mine/static/css/key.css", secret / "id_rsa")])


def test_a_link_that_stays_inside_the_site_is_copied(tmp_path: Path) -> None:
    site = make_site(tmp_path, files={f"{POSTS}/fine.md": POST, "content/img/logo.svg": "<svg/>"})
    (site / "static").mkdir()
    os.symlink(site / "content" / "img" / "logo.svg", site / "static" / "logo.svg")
    result = cli_build(site, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "logo.svg").read_text() == "<svg/>"


def test_publish_and_check_refuse_a_link_out_too(tmp_path: Path, secret: Path) -> None:
    site = make_site(tmp_path, files={f"{POSTS}/fine.md": POST})
    (site / "static").mkdir()
    os.symlink(secret / "id_rsa", site / "static" / "env.txt")
    target = tmp_path / "www"
    for args in (["publish", "-s", str(site), str(target)], ["check", "-s", str(site)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and "static/env.txt: is a link to" in result.output, result.output
        assert "Traceback" not in result.output
    assert not target.exists() and not list(tmp_path.glob("www*"))


# 4. Unpublished material: publishDate, bundles, build options, headless, cascade.

def build_ok(site: Path, out: Path, *extra: str) -> dict[str, bytes]:
    result = cli_build(site, out, *extra)
    assert result.exit_code == 0, result.output
    return tree(out)


def test_a_publish_date_in_the_future_hides_a_post_whatever_its_date(tmp_path: Path) -> None:
    site = make_site(tmp_path, files={
        f"{POSTS}/fine.md": POST,
        f"{POSTS}/later.md": f"---\ntitle: Later\ndate: 2020-01-01\npublishDate: 2099-01-01\n---\n{SECRET}\n"})
    files = build_ok(site, tmp_path / "out")
    assert leaked(tmp_path / "out") == [] and not [rel for rel in files if "later" in rel]
    assert any(SECRET.encode() in data for data in build_ok(site, tmp_path / "future", "--future").values())


def test_a_draft_bundle_publishes_none_of_its_files(tmp_path: Path) -> None:
    site = make_site(tmp_path, files={
        f"{POSTS}/fine.md": POST,
        f"{POSTS}/secret/index.md": f"---\ntitle: Hidden\ndate: 2020-01-01\ndraft: true\n---\n{SECRET}\n",
        f"{POSTS}/secret/leak.png": SECRET, f"{POSTS}/secret/data/more.txt": SECRET,
        f"{POSTS}/shown/index.md": "---\ntitle: Shown\ndate: 2020-01-01\n---\n![x](photo.png)\n",
        f"{POSTS}/shown/photo.png": "PHOTO"})
    files = build_ok(site, tmp_path / "out")
    assert leaked(tmp_path / "out") == []
    assert files["2020/01/01/shown/photo.png"] == b"PHOTO"  # beside the page's URL
    drafts = build_ok(site, tmp_path / "drafts", "--drafts")
    assert drafts["2020/01/01/secret/leak.png"] == SECRET.encode()


@pytest.mark.parametrize("front", [
    "build: {render: never, list: never}",
    "build:\n  render: false\n  list: false",
    "headless: true",
])
def test_pages_built_never_nor_listed_are_not_rendered_listed_or_in_the_sitemap(tmp_path: Path, front: str) -> None:
    site = make_site(tmp_path, files={
        f"{POSTS}/fine.md": POST,
        f"{POSTS}/quiet/index.md": f"---\ntitle: Quiet {SECRET}\ndate: 2020-01-02\n{front}\ntags: [hush]\n---\n{SECRET}\n",
        f"{POSTS}/quiet/inner.png": SECRET})
    files = build_ok(site, tmp_path / "out")
    assert leaked(tmp_path / "out") == []
    assert not any("quiet" in rel or "hush" in rel for rel in files)


def test_a_page_never_listed_is_rendered_but_left_out_of_lists_feeds_and_sitemap(tmp_path: Path) -> None:
    site = make_site(tmp_path, files={
        f"{POSTS}/fine.md": POST,
        f"{POSTS}/unlisted.md": f"---\ntitle: Unlisted\ndate: 2020-01-02\nbuild: {{list: never}}\n---\n{SECRET}\n"})
    files = build_ok(site, tmp_path / "out")
    assert leaked(tmp_path / "out") == ["2020/01/02/unlisted/index.html"]


def test_a_cascaded_draft_hides_the_section_below_it(tmp_path: Path) -> None:
    site = make_site(tmp_path, files={
        f"{POSTS}/fine.md": POST,
        "content/drafts/_index.md": "---\ntitle: Drafts\ncascade:\n  draft: true\n---\n",
        "content/drafts/one.md": f"---\ntitle: One\ndate: 2020-01-01\n---\n{SECRET}\n",
        "content/drafts/deep/two/index.md": f"---\ntitle: Two\ndate: 2020-01-01\n---\n{SECRET}\n",
        "content/drafts/deep/two/file.txt": SECRET,
        "content/drafts/ready.md": "---\ntitle: Ready\ndate: 2020-01-01\ndraft: false\n---\nREADY-TEXT\n",
        "content/notes/_index.md": "---\ntitle: Notes\ncascade:\n  - _target: {path: '/notes/old/**'}\n"
                                   "    build: {render: never, list: never}\n---\n",
        "content/notes/old/a.md": f"---\ntitle: Old\ndate: 2020-01-01\n---\n{SECRET}\n",
        "content/notes/new.md": "---\ntitle: New\ndate: 2020-01-01\n---\nNEW-TEXT\n"})
    files = build_ok(site, tmp_path / "out")
    assert leaked(tmp_path / "out") == []
    shown = b"".join(files.values())
    assert b"READY-TEXT" in shown and b"NEW-TEXT" in shown
    assert any(SECRET.encode() in data for data in build_ok(site, tmp_path / "drafts", "--drafts").values())


def test_check_names_each_unpublished_kind(tmp_path: Path) -> None:
    site = make_site(tmp_path, files={
        f"{POSTS}/fine.md": POST,
        f"{POSTS}/later.md": "---\ntitle: Later\ndate: 2020-01-01\npublishDate: 2099-01-01\n---\nx\n",
        "content/drafts/_index.md": "---\ntitle: Drafts\ncascade: {draft: true}\n---\n",
        "content/drafts/one.md": "---\ntitle: One\ndate: 2020-01-01\n---\n[later](/2020/01/01/later/)\n"})
    from bitopia_site.check import unpublished_documents
    from bitopia_site.build import BuildOptions, render_site
    from conftest import FIXED_NOW
    site_build = render_site(site, BuildOptions(now=FIXED_NOW, jobs=1, cache=False))
    reasons = {u.source: u.reason for u in unpublished_documents(site_build, FIXED_NOW)}
    assert reasons == {"content/drafts/one.md": "is a draft",
                       f"{POSTS}/later.md": "has a publishDate in the future (2099-01-01T00:00:00+00:00)"}


# 7. Front-matter numbers too large to convert, and posts too large to build.

@pytest.mark.parametrize(("name", "text"), [
    ("yaml", "---\ntitle: Big\ndate: 2020-01-01\nn: {big}\n---\nx\n"),
    ("toml", "+++\ntitle = 'Big'\ndate = 2020-01-01\nn = {big}\n+++\nx\n"),
    ("json", '{{"title": "Big", "date": "2020-01-01", "n": {big}}}\nx\n'),
])
def test_a_number_too_long_to_convert_is_an_error_not_a_traceback(tmp_path: Path, previous_output: Path,
                                                                   name: str, text: str) -> None:
    site = make_site(tmp_path, files={f"{POSTS}/big.md": text.format(big="9" * 5000)})
    line = {"yaml": ":2", "toml": "", "json": ":1"}[name]
    assert_fails(site, tmp_path, previous_output, [
        f"{POSTS}/big.md{line}: invalid {name.upper()}{' in' if name != 'json' else ''} front matter: a number has "
        "too many digits — write a number of fewer digits, or quote it as text"])


def test_a_post_over_the_size_limit_is_an_error(tmp_path: Path, previous_output: Path) -> None:
    site = make_site(tmp_path, files={f"{POSTS}/fine.md": POST})
    with open(site / POSTS / "huge.md", "w") as handle:
        handle.write("---\ntitle: Huge\ndate: 2020-01-01\n---\n")
        handle.write(("word " * 200 + "\n\n") * 9000)
    assert_fails(site, tmp_path, previous_output, [
        f"{POSTS}/huge.md: is 8.6 MiB; a post can be at most 8 MiB of text — split it, or put what makes it "
        "large (embedded images, data) in files of their own beside it"])


# 8. Templates run in Jinja's sandbox, and load only from the site's and themes' folders.

def test_a_template_cannot_reach_python_internals(tmp_path: Path, previous_output: Path) -> None:
    marker = tmp_path / "MARKER"
    site = make_site(tmp_path, files={
        f"{POSTS}/fine.md": POST,
        "templates/post.html": '{% extends "base.html" %}{% block main %}'
                               f'{{{{ lipsum.__globals__["os"].popen("touch {marker}").read() }}}}{{% endblock %}}\n'})
    out = tmp_path / "output"
    result = cli_build(site, out)
    assert result.exit_code == 1 and "SecurityError" in result.output, result.output
    assert "templates/post.html:1:" in result.output
    assert not marker.exists()


def test_a_theme_cannot_include_a_file_linked_from_outside(tmp_path: Path, previous_output: Path,
                                                           secret: Path) -> None:
    site = make_site(tmp_path, files={
        f"{POSTS}/fine.md": POST,
        "themes/evil/templates/post.html": '{% extends "base.html" %}{% block main %}{% include "k.html" %}'
                                           '{% endblock %}\n'})
    (site / "site.yaml").write_text(SITE_YAML + "theme: evil\n")
    os.symlink(secret / "id_rsa", site / "themes/evil/templates/k.html")
    result = cli_build(site, tmp_path / "output")
    assert result.exit_code == 1, result.output
    assert f"template `k.html` is a link to {secret / 'id_rsa'}, outside the site and its themes" in result.output
    assert leaked(tmp_path / "output") == []
