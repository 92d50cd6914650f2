"""A document's HTML is a Body (UTF-8, half the memory of text with curly quotes): templates and
code must see exactly what they saw when it was the Markup it holds."""

from __future__ import annotations

import pickle

import jinja2
import pytest
from markupsafe import Markup, escape

from bitopia_site.body import Body
from bitopia_site.render import _json_default

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
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_templates_see_a_body_as_the_markup_it_holds(expression: str) -> None:
    env = jinja2.Environment(autoescape=True)
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": _json_default}
    template = env.from_string(expression)
    assert template.render(c=Body(HTML), plain=HTML) == template.render(c=Markup(HTML), plain=HTML)


def test_a_body_is_its_text_to_code() -> None:
    body = Body(HTML)
    assert bytes(body) == HTML.encode("utf-8") and len(body) == len(HTML)
    assert str(body) == HTML and type(str(body)) is Markup and escape(body) == HTML
    assert body == HTML and body == Body(HTML.encode("utf-8")) and hash(body) == hash(HTML)
    assert body != Body("<p>other</p>") and body != HTML + " "
    copy = pickle.loads(pickle.dumps(body))
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
