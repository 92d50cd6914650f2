"""Templates compiled by codegen's generator print what Jinja's own would, byte for byte."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from bitopia_site.body import Body
from bitopia_site.errors import SiteError
from bitopia_site.model import OutputPage
from bitopia_site.render import Renderer, _Environment

OPTIONS = dict(autoescape=jinja2.select_autoescape(["html", "htm", "xml"], default_for_string=True),
               trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
               undefined=jinja2.ChainableUndefined)

VALUES = {"text": "a < b & \"c\" 'd'", "markup": Markup("<em>safe</em>"), "number": 42, "none": None,
          "body": Body("<p>“body”</p>"), "items": ["<x>", Markup("<y/>"), 3], "page": {"title": "T <1>"}}

# Pieces of templates, each whole on its own: runs of text and values, and the statements that
# change how output is made (into a buffer, escaped or not, before an extends found at run time).
PIECES = [
    "plain text\n",
    "{{ text }}",
    "<b>{{ text }}</b> and {{ markup }}, {{ number }} {{ none }}{{ missing }}{{ missing.deeper }}\n",
    "{{ body }}|{{ body|length }}",
    "{{ page.title }}{{ page['title'] }}",
    "{{ text ~ number }}{{ 'lit<eral>' }}{{ 1 + 2 }}",
    "{% for item in items %}[{{ loop.index }}:{{ item }}]{% endfor %}\n",
    "{% if number > 3 %}big {{ number }}{% else %}small{% endif %}",
    "{% set joined %}{{ text }}<i>{{ markup }}</i>{% endset %}{{ joined }}|{{ joined|length }}",
    "{% macro m(x) %}<{{ x }}>{{ caller() if caller else '' }}{% endmacro %}{{ m(text) }}",
    "{% macro n(x) %}({{ x }}:{{ caller() }}){% endmacro %}{% call n(number) %}in {{ text }}{% endcall %}",
    "{% filter upper %}up {{ text }} {{ markup }}{% endfilter %}",
    "{% autoescape false %}raw {{ text }} {{ markup }}{% endautoescape %}",
    "{% autoescape true %}esc {{ text }}{% endautoescape %}",
    "{% with v = text %}{{ v }}{{ v|e }}{{ v|safe }}{% endwith %}",
    "{{ text|truncate(5) }} {{ items|join(', ') }} {{ items|length }}",
    "{% include 'part.html' %}",
    "{% raw %}{{ not a value }}{% endraw %}",
]
PART = "part({{ text }}, {{ number }})\n"


def pair(templates: dict[str, str]) -> tuple[jinja2.Environment, jinja2.Environment]:
    """Jinja's own environment and ours, over the same templates."""
    return (jinja2.Environment(loader=jinja2.DictLoader(templates), **OPTIONS),
            _Environment(loader=jinja2.DictLoader(templates), **OPTIONS))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=8), st.sampled_from(["page.html", "page.txt"]),
       st.text(), st.text().map(Markup))
def test_any_template_prints_what_jinja_prints(pieces: list[str], name: str, text: str, markup: Markup) -> None:
    """In HTML (escaped) and in text (not escaped) templates alike, whatever text they print."""
    stock, ours = pair({name: "".join(pieces), "part.html": PART})
    values = {**VALUES, "text": text, "markup": markup}
    assert ours.get_template(name).render(values) == stock.get_template(name).render(values)


@pytest.mark.parametrize("child", [
    '{% extends "base.html" %}{% block main %}child {{ text }}{% endblock %}',
    'before {{ text }} {% extends layout %}{% block main %}[{{ super() }}] {{ text }}{% endblock %}',
    '{% if number %}{% extends "base.html" %}{% endif %}outside {{ text }} {{ number }}',
])
def test_extends_and_blocks_print_what_jinja_prints(child: str) -> None:
    templates = {"child.html": child, "base.html": "<main>{% block main %}base {{ markup }}{% endblock %}</main>\n"}
    stock, ours = pair(templates)
    values = {**VALUES, "layout": "base.html"}
    assert ours.get_template("child.html").render(values) == stock.get_template("child.html").render(values)


def test_an_error_in_a_run_names_its_own_line(tmp_path: Path) -> None:
    """A run of output spans several lines of a template: an error names the line of the value
    that failed, not the first line of the run."""
    (tmp_path / "page.html").write_text("<p>{{ text }}\n{{ number }}\n{{ number // zero }}\n{{ text }}</p>\n")
    env = _Environment(loader=jinja2.FileSystemLoader(str(tmp_path)), **OPTIONS)
    page = OutputPage("page/index.html", "/page/", ("page.html",), {**VALUES, "zero": 0})
    with pytest.raises(SiteError) as caught:
        Renderer(env, tmp_path).render(page)
    assert (caught.value.path, caught.value.line) == ("page.html", 3)
    assert "ZeroDivisionError" in caught.value.message


def test_a_run_of_text_and_values_is_one_yield() -> None:
    _, ours = pair({})
    code = ours.compile("<p>{{ text }} and {{ number }}</p>", raw=True)
    assert [line.strip()[:16] for line in code.splitlines() if line.strip().startswith("yield ")] == ['yield "".join((']
