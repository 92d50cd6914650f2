"""A document's HTML is a Body (UTF-8, half the memory of text with curly quotes): templates and
code must see exactly what they saw when it was the Markup it holds."""

from __future__ import annotations

import pickle
import re

import pytest
from markupsafe import Markup, escape

from bitopia_site.body import Body
from bitopia_site.render import _Environment, read_bodies_as_text

ADDRESS = re.compile(r"0x[0-9a-f]+")

HTML = "<p>It’s <b>bold</b> &amp; “quoted” — a b c d e f g h i j k l m n o p q r s t u v w x y z</p>"

EXPRESSIONS = [
    "{{ c }}", "{{ c|safe }}", "{{ c|e }}", "{{ c|striptags }}", "{{ c|truncate(20) }}", "{{ c|length }}",
    "{{ c|wordcount }}", "{{ c|replace('b', '<B>') }}", "{{ c|upper }}", "{{ 'x' ~ c ~ '<y>' }}",
    "{{ c.striptags() }}", "{{ c.unescape() }}", "{{ c[:10] }}", "{{ c[3] }}", "{{ c.split('<')|length }}",
    "{% if c %}yes{% endif %}", "{{ c|tojson }}", "{{ c|string }}", "{{ 'bold' in c }}", "{{ c == plain }}",
    "{{ c|trim }}", "{{ c|indent(2) }}", "{{ c|wordwrap(20) }}", "{{ c|center(200) }}", "{{ c|first }}",
    "{{ c|last }}", "{{ c|list|length }}", "{{ c|lower }}", "{{ c|title }}", "{{ c.startswith('<p>') }}",
    "{{ c.replace('bold', '<u>') }}", "{{ c + '<i>' }}", "{{ '<i>' + c }}", "{{ c * 2 }}", "{{ c.find('b') }}",
    "{{ c|striptags|truncate(30) }}", "{{ c|sort|first }}", "{{ c|batch(3)|first }}", "{{ '%s!'|format(c) }}",
    "{{ c|join(',')|length }}", "{{ c.encode('utf-8')|length }}", "{{ c|count }}", "{{ c|capitalize }}",
    "{{ c is string }}", "{{ c|reverse }}", "{{ c|urlencode }}", "{{ c < other }}", "{{ [other, c]|sort|first }}",
    "{{ other in c }}", "{{ c.startswith(other) }}", "{{ c.replace(other, 'x') }}", "{{ c.split(other)|length }}",
]


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_templates_see_a_body_as_the_markup_it_holds(expression: str, autoescape: bool) -> None:
    """With the environment builds use (as made by render.make_environment), in HTML templates and
    in text ones (robots.txt), a Body and another Body read as the Markups they hold."""
    env = _Environment(autoescape=autoescape)
    read_bodies_as_text(env)
    template = env.from_string(expression)
    assert (template.render(c=Body(HTML), other=Body("<b>bold"), plain=HTML)
            == template.render(c=Markup(HTML), other=Markup("<b>bold"), plain=HTML))


def test_all_of_jinjas_filters_and_tests_see_a_body_as_its_markup() -> None:
    """Every filter and test Jinja has, applied to a Body, gives what it gives for the Markup (but
    those whose output is random; a generator's address, as `reject` shows it, is left out)."""
    env = _Environment(autoescape=True)
    read_bodies_as_text(env)
    for expression in [*("{{ c|%s }}" % name for name in sorted(set(env.filters) - {"items", "map", "random"})),
                       *("{{ c is %s }}" % name for name in sorted(env.tests))]:
        seen = []
        for value in (Body(HTML), Markup(HTML)):
            try:
                seen.append(ADDRESS.sub("0x…", env.from_string(expression).render(c=value)))
            except Exception as exc:  # noqa: BLE001 - the same error for both is the same behaviour
                seen.append(type(exc).__name__)  # its message may name the type, Body or Markup
        assert seen[0] == seen[1], expression


def test_a_body_is_its_text_to_code() -> None:
    body = Body(HTML)
    assert bytes(body) == HTML.encode("utf-8") and len(body) == len(HTML)
    assert str(body) == HTML and type(str(body)) is Markup and escape(body) == HTML
    assert body == HTML and body == Body(HTML.encode("utf-8")) and hash(body) == hash(HTML)
    assert body != Body("<p>other</p>") and body != HTML + " "
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(body, protocol))
        assert type(copy) is Body and copy == body
    assert Body("\ud800 lone surrogate").text() == "\ud800 lone surrogate"  # as a str holds it


def test_a_body_cannot_be_changed() -> None:
    body = Body(HTML)
    for change in (lambda: body.append(1), lambda: body.extend(b"x"), lambda: body.clear(),
                   lambda: body.__setitem__(0, 1), lambda: body.__delitem__(0)):
        with pytest.raises(TypeError):
            change()
    more = body
    more += "<i>"
    assert body == HTML and more == HTML + "&lt;i&gt;" and type(more) is Markup
