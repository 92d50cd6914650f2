"""Hugo shortcodes, expanded before Markdown as Hugo expands them.

`{{< name args >}}` output is HTML that Markdown leaves alone: it stands in the text as a
placeholder word, put back after Markdown (`Expanded.fill`). `{{% name %}}` output is Markdown,
rendered with the page. Inner content (`{{< x >}}…{{< /x >}}`) is passed as written, with the
shortcodes nested in it expanded; `{{</* x */>}}` prints `{{< x >}}` as it stands.
Pure: text in, text out with warnings and errors; the site's shortcode templates come in the
`ShortcodeSet` (read once a build by `load`, part of the parse settings' key).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from bitopia_site.errors import SiteError

# `{{<` or `{{%`, then an escape (`/*`), a closing tag (`/name`) or a name.
_OPEN = re.compile(r"\{\{([<%])")
_NAME = re.compile(r"[\w./-]+")
_CLOSING_NAME = re.compile(r"\s*/\s*([\w./-]+)\s*")
_BARE = re.compile(r"[^\s\"`]+?(?=\s|/?[>%]\}\}|$)", re.S)
_ARG_NAME = re.compile(r"([\w-]+)\s*=\s*")
_PLACEHOLDER = re.compile(r"<p>(bitopiasc[0-9a-f]{8}n\d+e)</p>\n?|bitopiasc[0-9a-f]{8}n\d+e")
MAX_DEPTH = 20


@dataclass(frozen=True, slots=True)
class Call:
    """One shortcode as written: `{{< name args >}}` (form `<`) or `{{% … %}}` (form `%`)."""

    name: str
    form: str
    positional: tuple[str, ...]
    named: tuple[tuple[str, str], ...]
    inner: str | None  # None: no closing tag
    line: int  # in the file
    indent: int = 0  # the indentation of the line the call starts on, when only spaces come before it

    def inner_deindented(self) -> str:
        """Hugo's `.InnerDeindent`: the inner content less the indentation of the call's line."""
        inner = self.inner or ""
        if not self.indent:
            return inner
        return "\n".join(line[min(self.indent, len(line) - len(line.lstrip(" \t"))):] for line in inner.split("\n"))

    def get(self, key: int | str, default: str = "") -> str:
        """Hugo's `.Get 0` / `.Get "name"`: '' (or `default`) when absent."""
        if isinstance(key, int):
            return self.positional[key] if 0 <= key < len(self.positional) else default
        for name, value in self.named:
            if name == key:
                return value
        return default

    @property
    def is_named(self) -> bool:
        return bool(self.named)


@dataclass(frozen=True, slots=True)
class Tag:
    """A shortcode tag found in the text: an opening tag, a closing one, or an escaped one."""

    kind: str  # "open", "close", "escaped"
    name: str
    form: str
    start: int
    end: int
    self_closing: bool = False
    positional: tuple[str, ...] = ()
    named: tuple[tuple[str, str], ...] = ()
    literal: str = ""  # an escaped tag's text, as printed


@dataclass(frozen=True, eq=False)
class ShortcodeSet:
    """The site's own shortcodes: Jinja templates by name (with the file each came from), the
    names of Go-template shortcodes found in Hugo's layouts/ (which cannot run here), and what
    templates see as `site`. Its repr is a digest: part of the parse settings' key."""

    templates: tuple[tuple[str, str, str], ...] = ()  # (name, file, source)
    go_templates: tuple[tuple[str, str], ...] = ()  # (name, file)
    site: tuple[tuple[str, Any], ...] = ()  # title, base_url, params
    digest: str = field(default="none")

    def __repr__(self) -> str:
        return f"ShortcodeSet({self.digest})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ShortcodeSet) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def template(self, name: str) -> tuple[str, str] | None:
        for own, file, source in self.templates:
            if own == name:
                return file, source
        return None

    def go_template(self, name: str) -> str | None:
        for own, file in self.go_templates:
            if own == name:
                return file
        return None


NO_SHORTCODES = ShortcodeSet()


@dataclass(frozen=True, slots=True)
class Page:
    """What a shortcode sees of the page being parsed."""

    path: str
    title: str
    date: Any
    params: dict[str, Any]
    url: str
    body_line: int  # the file's line where the body starts


@dataclass
class Expanded:
    """A body with its shortcodes expanded; `fill` puts the HTML of `{{< >}}` shortcodes back
    in place of their placeholders, after Markdown."""

    text: str
    fragments: dict[str, str] = field(default_factory=dict)
    warnings: list[SiteError] = field(default_factory=list)
    errors: list[SiteError] = field(default_factory=list)

    def fill(self, html: str) -> str:
        if not self.fragments or "bitopiasc" not in html:
            return html
        return _PLACEHOLDER.sub(self._fragment, html)

    def _fragment(self, match: re.Match[str]) -> str:
        token = match.group(1) or match.group(0)
        fragment = self.fragments.get(token)
        if fragment is None:
            return match.group(0)
        return self.fill(fragment)


class Context:
    """One body's expansion: the page, the site's shortcodes, and what was found."""

    def __init__(self, text: str, page: Page, shortcodes: ShortcodeSet) -> None:
        self.page = page
        self.shortcodes = shortcodes
        self.nonce = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
        self.result = Expanded(text)
        self.text = text  # the whole body: line numbers are counted in it

    def placeholder(self, html: str) -> str:
        """A word Markdown leaves alone, standing for `html` until `fill`."""
        token = f"bitopiasc{self.nonce}n{len(self.result.fragments)}e"
        self.result.fragments[token] = html
        return token

    def warn(self, line: int, message: str, hint: str = "") -> None:
        self.result.warnings.append(SiteError(self.page.path, message, hint, line))

    def error(self, line: int, message: str, hint: str = "") -> None:
        self.result.errors.append(SiteError(self.page.path, message, hint, line))


# A renderer: (call, context, nested) -> (output, is_html). HTML output of a `{{% %}}` call
# still gets a placeholder when it is a block Markdown would take apart (built-ins' output).
Renderer = Callable[[Call, Context, bool], tuple[str, bool]]


def expand(text: str, page: Page, shortcodes: ShortcodeSet, render: Renderer,
           takes_inner: Callable[[str], bool | None]) -> Expanded:
    """The body with every shortcode expanded; a body without `{{` is returned as it is."""
    if "{" not in text or "{{" not in text:
        return Expanded(text)
    context = Context(text, page, shortcodes)
    context.result.text = _expand(text, 0, context, render, takes_inner, 0)
    return context.result


def _expand(text: str, offset: int, context: Context, render: Renderer,
            takes_inner: Callable[[str], bool | None], depth: int) -> str:
    """`text` (found at `offset` in the body) with its shortcodes expanded: top-level `{{< >}}` calls
    and built-ins' HTML become placeholders; the output of other nested calls (depth > 0) goes in
    the text, as Hugo puts it in the `.Inner` of the call around them."""
    tags = scan(text, context, offset)
    if not tags:
        return text
    out: list[str] = []
    at = 0
    index = 0
    while index < len(tags):
        tag = tags[index]
        out.append(text[at:tag.start])
        at = tag.end
        index += 1
        line = _line(context, offset + tag.start)
        if tag.kind == "escaped":
            out.append(tag.literal)
            continue
        if tag.kind == "close":
            shown = f"{{{{{tag.form} /{tag.name} {_closer(tag.form)}}}}}"
            context.warn(line, f"shortcode closing tag `{shown}` has no opening tag",
                         "remove it, or add the opening tag before it")
            continue
        inner = None
        if not tag.self_closing and takes_inner(tag.name) is not False:
            close = _matching_close(tags, index, tag.name, takes_inner)
            if close is not None:
                inner_text = text[tag.end:tags[close].start]
                if depth >= MAX_DEPTH:
                    context.error(line, "shortcodes are nested too deeply", "nest at most 20 levels")
                    inner = inner_text
                else:
                    inner = _expand(inner_text, offset + tag.end, context, render, takes_inner, depth + 1)
                at = tags[close].end
                index = close + 1
            elif takes_inner(tag.name):
                context.warn(line, f"shortcode `{tag.name}` is never closed: its content is the rest of the text",
                             f"add `{{{{{tag.form} /{tag.name} {_closer(tag.form)}}}}}` after it, or self-close "
                             f"it with `/{_closer(tag.form)}}}}}`")
        line_start = text.rfind("\n", 0, tag.start) + 1
        before = text[line_start:tag.start]
        indent = len(before) if before.strip(" \t") == "" else 0
        call = Call(tag.name, tag.form, tag.positional, tag.named, inner, line, indent)
        output, is_html = render(call, context, depth > 0)
        if is_html or (depth == 0 and tag.form == "<"):  # a built-in's HTML: never taken apart by Markdown
            out.append(context.placeholder(output))
        else:
            out.append(output)
    out.append(text[at:])
    return "".join(out)


def _matching_close(tags: list[Tag], index: int, name: str, takes_inner: Callable[[str], bool | None]) -> int | None:
    """The index of the tag closing the one before `index`, counting nested tags of the same name."""
    depth = 1
    for number in range(index, len(tags)):
        tag = tags[number]
        if tag.name != name or tag.kind == "escaped":
            continue
        if tag.kind == "open" and not tag.self_closing:
            depth += 1
        elif tag.kind == "close":
            depth -= 1
            if depth == 0:
                return number
    return None


def _line(context: Context, position: int) -> int:
    return context.page.body_line + context.text.count("\n", 0, position)


def scan(text: str, context: Context, offset: int = 0) -> list[Tag]:
    """Every shortcode tag in `text`, in order; a tag that does not parse is warned of and left as text."""
    tags: list[Tag] = []
    at = 0
    while True:
        match = _OPEN.search(text, at)
        if match is None:
            return tags
        tag = _tag(text, match.start(), match.group(1))
        if isinstance(tag, str):
            form, closer = match.group(1), _closer(match.group(1))
            context.warn(_line(context, offset + match.start()), f"shortcode not understood: {tag}",
                         f"write `{{{{{form} name args {closer}}}}}`, "
                         f"or `{{{{{form}/* … */{closer}}}}}` to show it as text")
            at = match.end()
            continue
        tags.append(tag)
        at = tag.end


def _tag(text: str, start: int, form: str) -> Tag | str:
    """The tag starting at `start`, or why it does not parse."""
    end_mark = _closer(form) + "}}"
    at = start + 3
    rest = text[at:at + 3].lstrip()
    if rest.startswith("/*"):
        comment = text.find("*/", at)
        close = comment + 2 + (len(text[comment + 2:]) - len(text[comment + 2:].lstrip()))
        if comment < 0 or not text.startswith(end_mark, close):
            return f"the escaped shortcode is not closed with `*/{end_mark}`"
        inside = text[text.index("/*", at) + 2:comment]
        return Tag("escaped", "", form, start, close + 3, literal="{{" + form + inside + end_mark)
    closing = _CLOSING_NAME.match(text, at)
    if closing is not None and text.startswith(end_mark, closing.end()):
        return Tag("close", closing.group(1), form, start, closing.end() + 3)
    while at < len(text) and text[at].isspace():
        at += 1
    name = _NAME.match(text, at)
    if name is None:
        return f"`{text[start:start + 20].splitlines()[0]}` has no shortcode name"
    at = name.end()
    positional: list[str] = []
    named: list[tuple[str, str]] = []
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if text.startswith(end_mark, at):
            return Tag("open", name.group(0), form, start, at + 3, False, tuple(positional), tuple(named))
        if text.startswith("/" + end_mark, at):
            return Tag("open", name.group(0), form, start, at + 4, True, tuple(positional), tuple(named))
        if at >= len(text):
            return f"`{{{{{form} {name.group(0)}` is not closed with `{end_mark}`"
        key = _ARG_NAME.match(text, at)
        if key is not None:
            at = key.end()
        value = _value(text, at)
        if value is None:
            return f"an argument of `{name.group(0)}` is not closed"
        if key is not None:
            named.append((key.group(1), value[0]))
        else:
            positional.append(value[0])
        at = value[1]


def _closer(form: str) -> str:
    return ">" if form == "<" else "%"


def _value(text: str, at: int) -> tuple[str, int] | None:
    """An argument value at `at` (a "quoted" string with \\ escapes, a `raw` one, or a bare word)
    and where it ends; None when a quote is never closed."""
    if at < len(text) and text[at] == '"':
        out: list[str] = []
        pos = at + 1
        while pos < len(text):
            char = text[pos]
            if char == "\\" and pos + 1 < len(text):
                out.append(text[pos + 1] if text[pos + 1] in '"\\' else char + text[pos + 1])
                pos += 2
                continue
            if char == '"':
                return "".join(out), pos + 1
            out.append(char)
            pos += 1
        return None
    if at < len(text) and text[at] == "`":
        close = text.find("`", at + 1)
        return None if close < 0 else (text[at + 1:close], close + 1)
    bare = _BARE.match(text, at)
    if bare is None or not bare.group(0):
        return None
    return bare.group(0), bare.end()


def load(root: Path, template_dirs: tuple[Path, ...], theme_roots: tuple[Path, ...],
         site: dict[str, Any]) -> ShortcodeSet:
    """The site's shortcodes: Jinja templates in `templates/shortcodes/NAME.html` (the site's own,
    then each theme's: the first found wins) and the names of Hugo's Go-template shortcodes in
    `layouts/shortcodes/` or `layouts/_shortcodes/` of the site and its themes."""
    templates: dict[str, tuple[str, str]] = {}
    for folder in template_dirs:
        for path in _files(folder / "shortcodes"):
            name = path.relative_to(folder / "shortcodes").with_suffix("").as_posix()
            if name not in templates:
                try:
                    templates[name] = (_shown(path, root), path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError):
                    continue
    go: dict[str, str] = {}
    for base in (root, *theme_roots):
        for sub in ("shortcodes", "_shortcodes"):
            folder = base / "layouts" / sub
            for path in _files(folder):
                name = path.relative_to(folder).as_posix().split(".")[0]
                go.setdefault(name, _shown(path, root))
    site_items = tuple(sorted(site.items())) if templates else (("params", site.get("params", {})),)
    data = repr((sorted(templates.items()), sorted(go.items()), site_items))
    digest = hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
    return ShortcodeSet(tuple((n, f, s) for n, (f, s) in sorted(templates.items())), tuple(sorted(go.items())),
                        site_items, digest)


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.html") if p.is_file())


def _shown(path: Path, root: Path) -> str:
    """A template's path as messages name it: relative to the site where it is inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name
