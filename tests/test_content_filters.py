"""The theme's content filters: tables and code blocks made scrollable, headings linked to."""

from markupsafe import Markup

from bitopia_site.content_filters import heading_anchors, scrollable


def test_tables_and_code_blocks_become_scrollable() -> None:
    html = Markup('<table><tr><td>1</td></tr></table><pre class="highlight"><code>x</code></pre>'
                  "<pre><code>y</code></pre>")
    assert scrollable(html) == (
        '<div class="table-scroll" role="region" aria-label="Table" tabindex="0"><table>'
        '<tr><td>1</td></tr></table></div><pre class="highlight" tabindex="0"><code>x</code></pre>'
        '<pre tabindex="0"><code>y</code></pre>')


def test_text_that_is_not_html_is_escaped_not_wrapped() -> None:
    assert scrollable("<table>") == "&lt;table&gt;"
    assert heading_anchors('<h2 id="a">', [(2, "a", "A")]) == '&lt;h2 id=&#34;a&#34;&gt;'


def test_each_listed_heading_gets_one_anchor_in_order() -> None:
    html = Markup('<h2 id="a">A</h2><h3 id="b">B</h3><h2 id="a">A again</h2><h4 id="c">C</h4>')
    anchored = heading_anchors(html, [(2, "a", "A"), (3, "b", "B"), (2, "a", "A again")])
    link = '<a class="anchor" href="#{0}" title="Link to this section">#</a>'
    assert anchored == (f'<h2 id="a">{link.format("a")}A</h2><h3 id="b">{link.format("b")}B</h3>'
                        f'<h2 id="a">{link.format("a")}A again</h2><h4 id="c">C</h4>')


def test_ids_with_entities_are_matched_and_the_symbol_escaped() -> None:
    html = Markup('<h2 id="q&amp;a">Q&amp;A</h2>')
    assert heading_anchors(html, [(2, "q&a", "Q&A")], symbol="<§>") == (
        '<h2 id="q&amp;a"><a class="anchor" href="#q&amp;a" title="Link to this section">'
        "&lt;§&gt;</a>Q&amp;A</h2>")
    assert heading_anchors(html, []) == html
