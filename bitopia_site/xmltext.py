"""Values printed into XML (feeds, the sitemap) as character data, so the file stays well-formed."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

# What XML 1.0 allows (its production `Char`); anything else makes a parser stop.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_chars(text: str) -> str:
    """`text` without the characters XML 1.0 forbids: C0 controls but tab and line ends, lone
    surrogates, U+FFFE and U+FFFF."""
    return _NOT_XML.sub("", text) if _NOT_XML.search(text) else text


def xml_text(value: Any) -> Markup:
    """`value` escaped as XML text, HTML and all: a Markup or a document's Body, which autoescaping
    prints as they are, is escaped too, so a feed reader gets its HTML back by unescaping it once
    (RSS's `<description>`, as Hugo writes it)."""
    text = str(value)
    if type(text) is not str:  # a Body's str() is the Markup it holds; a Markup's is a plain str
        text = str(text)
    return escape(xml_chars(text))
