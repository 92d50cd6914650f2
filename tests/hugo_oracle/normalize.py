"""Page bodies as comparable tokens: whitespace collapsed, attributes sorted, comments dropped, and
each code block reduced to its text and line numbers (not Chroma's or Pygments' markup)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
        "track", "wbr"}
_CODE_ROOT_CLASSES = {"highlight", "highlighttable", "lntable", "chroma"}
_LINE_NUMBER_CLASSES = {"lnt", "ln", "linenos", "linenodiv", "lineno", "lnlinks"}
_SPACES = re.compile(r"\s+")
_PRE = re.compile(r"<pre\b.*?</pre>", re.S | re.I)
_SPAN = re.compile(r"</?span\b[^>]*>", re.I)
_NUMBER_SPAN = re.compile(r"""<span\b[^>]*(?:class="[^"]*\b(?:lnt|ln|linenos)\b[^"]*"|user-select:\s*none)[^>]*>"""
                          r"\s*(\d+)\s*</span>", re.I)
_NUMBER_MARK = re.compile("\x00(\\d+)\x00")

Token = tuple  # ("<", tag, attrs) | ("/", tag) | ("t", text) | ("code", CodeBlock)


@dataclass(frozen=True)
class CodeBlock:
    """A code block as a reader sees it: its text and the line numbers shown beside it."""

    text: str
    line_numbers: tuple[int, ...]


def _classes(attrs: list[tuple[str, str | None]]) -> set[str]:
    return set(" ".join(v or "" for k, v in attrs if k == "class").split())


def _is_line_number(attrs: list[tuple[str, str | None]]) -> bool:
    """Pygments and Chroma mark line numbers with a class, or (Chroma's inline styles) unselectable."""
    style = "".join(v or "" for k, v in attrs if k == "style").replace(" ", "")
    return bool(_classes(attrs) & _LINE_NUMBER_CLASSES) or "user-select:none" in style


class _Tokenizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[Token] = []
        self.text: list[str] = []
        self.code: dict | None = None  # the code block being read: root tag, depth, text, numbers

    def _flush(self) -> None:
        text = _SPACES.sub(" ", "".join(self.text)).strip()
        self.text = []
        if text:
            self.tokens.append(("t", text))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        code = self.code
        if code is not None:
            if tag == code["root"]:
                code["depth"] += 1
            if tag not in VOID:
                code["stack"].append(_is_line_number(attrs))
            return
        if tag == "pre" or _classes(attrs) & _CODE_ROOT_CLASSES and tag in ("div", "table"):
            self._flush()
            self.code = {"root": tag, "depth": 1, "text": [], "numbers": [], "stack": [False]}
            return
        self._flush()
        normal = tuple(sorted((k, _SPACES.sub(" ", v or "").strip()) for k, v in attrs))
        self.tokens.append(("<", tag, normal))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        code = self.code
        if code is not None:
            if tag not in VOID and len(code["stack"]) > 1:
                code["stack"].pop()
            if tag == code["root"]:
                code["depth"] -= 1
                if code["depth"] == 0:
                    self._end_code()
            return
        if tag in VOID:
            return
        self._flush()
        self.tokens.append(("/", tag))

    def _end_code(self) -> None:
        code, self.code = self.code, None
        text = "".join(code["text"]).replace("\r\n", "\n").rstrip()
        text = "\n".join(line.rstrip() for line in text.split("\n")).lstrip("\n")
        numbers = tuple(int(n) for n in " ".join(code["numbers"]).split() if n.isdigit())
        self.tokens.append(("code", CodeBlock(text, numbers)))

    def handle_data(self, data: str) -> None:
        code = self.code
        if code is None:
            self.text.append(data)
        elif any(code["stack"]):
            code["numbers"].append(data)
        else:
            code["numbers"] += _NUMBER_MARK.findall(data)
            code["text"].append(_NUMBER_MARK.sub("", data))

    def close(self) -> None:
        super().close()
        if self.code is not None:
            self._end_code()
        self._flush()


def _plain_code(match: re.Match[str]) -> str:
    """A <pre> without its colouring spans (the bulk of a highlighted page's tags), each line
    number kept as a mark: parsing is then some ten times quicker."""
    return _SPAN.sub("", _NUMBER_SPAN.sub(lambda m: f"\x00{m.group(1)}\x00", match.group(0)))


def tokens(html: str) -> list[Token]:
    """The body as tokens; equal lists mean bodies a reader cannot tell apart (but for code colours)."""
    parser = _Tokenizer()
    parser.feed(_PRE.sub(_plain_code, html) if "<pre" in html else html)
    parser.close()
    return parser.tokens


def code_blocks(toks: list[Token]) -> list[CodeBlock]:
    return [t[1] for t in toks if t[0] == "code"]
