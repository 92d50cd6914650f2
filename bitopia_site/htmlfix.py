"""Balance the tags of raw HTML in Markdown, the way a browser would read them.

Migrated posts carry raw HTML that CommonMark cuts at blank lines (`<blockquote>` in one
block, `</blockquote>` inside a later paragraph). Left as is, a stray end tag or an unclosed
element breaks the page around the post; here every element is closed where the browser
would close it, and end tags with nothing to close are dropped. A paragraph a browser closes by
itself (at a block's start tag, or at the end tag of an element around it) is left for it to close,
and a stray `</p>` is kept (a browser makes it an empty paragraph): both as Goldmark writes them.
"""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
        "track", "wbr"}
CLOSES_P = {"address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset", "figcaption",
            "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "menu",
            "nav", "ol", "p", "pre", "section", "table", "ul"}
SELF_CLOSING_SIBLINGS = {"li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "tr": {"tr"},
                         "td": {"td", "th"}, "th": {"td", "th"}, "option": {"option"}}


class _Balancer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.stack: list[str] = []

    def _close_to(self, tag: str, write: bool = True) -> None:
        """Close the elements open up to `tag`; a paragraph inside it, and `tag` itself unless
        `write`, closed as a browser closes them, without an end tag."""
        while self.stack:
            top = self.stack.pop()
            if top == tag:
                if write:
                    self.out.append(f"</{top}>")
                return
            if top != "p":
                self.out.append(f"</{top}>")

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in CLOSES_P and "p" in self.stack[-1:]:
            self._close_to("p", write=False)
        siblings = SELF_CLOSING_SIBLINGS.get(tag)
        if siblings and self.stack and self.stack[-1] in siblings:
            self._close_to(self.stack[-1])
        self.out.append(self.get_starttag_text() or f"<{tag}>")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.out.append(self.get_starttag_text() or f"<{tag} />")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if tag == "p" and "p" not in self.stack:
            self.out.append("</p>")
            return
        if tag in self.stack:
            self._close_to(tag)

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        """`<![` that starts no CDATA or IE section (`<![alt](x.png)` in a raw HTML block): a bogus
        comment, as a browser reads it; the standard library raises AssertionError instead."""
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            return self.parse_bogus_comment(i, report)

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        # `<![CDATA[x]]>` (and the other SGML sections) end in `]]>`; IE's `<![if …]>` in `]>`
        keyword = data.split("[", 1)[0].strip().lower()
        end = "]]>" if keyword in ("cdata", "temp", "ignore", "include", "rcdata") else "]>"
        self.out.append(f"<![{data}{end}")


def balance(html: str) -> str:
    """The same HTML with every element closed once, in order; text and attributes untouched."""
    parser = _Balancer()
    parser.feed(html)
    parser.close()
    while parser.stack:  # close whatever is still open
        parser.out.append(f"</{parser.stack.pop()}>")
    return "".join(parser.out)
