"""Hugo's built-in shortcodes, rendered as Hugo renders them, and the dispatch between them, the
site's own Jinja shortcodes and the Go-template ones that cannot run here.

Embeds (youtube, vimeo, x/tweet, instagram, gist) load nothing from another host as built: each is
a link to the original, which a small script in the page swaps for the player when the reader
clicks it. Code is highlighted with Pygments into the structure of the site's other
code blocks.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from bitopia_site import markup, qr, refs, shortcode_templates
from bitopia_site.shortcodes import Call, Context, Expanded, Page, ShortcodeSet, expand

# Put once in a page with embeds: a click on an embed's link puts the player in its place.
EMBED_SCRIPT = ("<script>(function(){if(window.bitopiaEmbeds)return;window.bitopiaEmbeds=1;"
                "document.addEventListener('click',function(e){var a=e.target.closest&&e.target.closest("
                "'.embed[data-embed] a.embed-link');if(!a||e.button||e.ctrlKey||e.metaKey||e.shiftKey)return;"
                "var b=a.parentNode,s=b.getAttribute('data-embed');if(!/^https:\\/\\//.test(s))return;"
                "e.preventDefault();var f=document.createElement('iframe');f.src=s;f.title=a.textContent;"
                "f.setAttribute('allow','autoplay; encrypted-media; fullscreen; picture-in-picture');"
                "f.setAttribute('allowfullscreen','');f.style.width='100%';f.style.border='0';"
                "var r=b.getAttribute('data-ratio');if(r)f.style.aspectRatio=r;else f.style.height='32em';"
                "b.replaceChild(f,a);});})();</script>")
_LANG = re.compile(r"[^\w+#.-]")
_ID = re.compile(r"[^\w.-]")
_LINE_START = re.compile(r"^(?:</span>)?(?:<span class=\"hll\">)?", re.M)
# Built-ins that take inner content (True), that never do (False); others: a closing tag decides.
_TAKES_INNER = {"highlight": True, "details": True, "qr": None}


def expand_body(text: str, page: Page, shortcodes: ShortcodeSet) -> Expanded:
    """`text` with its shortcodes expanded (see shortcodes.py); nothing is done without `{{`."""
    return expand(text, page, shortcodes, _render, lambda name: _takes_inner(name, shortcodes))


def _takes_inner(name: str, shortcodes: ShortcodeSet) -> bool | None:
    own = shortcodes.template(name)
    if own is not None:
        return "inner" in own[1] or None
    if name in _TAKES_INNER:
        return _TAKES_INNER[name]
    if name in BUILT_INS:
        return False
    return None


def _render(call: Call, context: Context, nested: bool) -> tuple[str, bool]:
    """A call's output, and whether it is HTML to keep out of Markdown even in `{{% %}}` form."""
    own = context.shortcodes.template(call.name)
    if own is not None:
        return shortcode_templates.render(call, context, *own), False
    builtin = BUILT_INS.get(call.name)
    if builtin is not None:
        return builtin(call, context)
    context.result.warnings.append(shortcode_templates.unknown(call, context))
    inner = call.inner or ""
    if call.form == "<" and inner.strip():  # as Markdown: what nearly every such template does with it
        if "\n" not in inner.strip():
            return _inline_markdown(inner.strip()), False
        return markup.to_html(call.inner_deindented().strip("\n")), False
    return inner, False


def _html(text: str) -> tuple[str, bool]:
    return text, True


def _attr(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _inline_markdown(text: str) -> str:
    """Hugo's `markdownify`: Markdown, without the <p> of a single paragraph."""
    if not text:
        return ""
    rendered = markup.to_html(text).strip()
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        return rendered[3:-4]
    return rendered


# -- highlight -------------------------------------------------------------------------------

def highlight(call: Call, context: Context) -> tuple[str, bool]:
    """`{{< highlight LANG "linenos=table,hl_lines=2 3,linenostart=10" >}}`: Pygments into the
    structure of the site's code blocks, line numbers in a table or inline."""
    lang = _LANG.sub("", call.get(0) or call.get("lang") or "text") or "text"
    options = _options(call.get(1) or call.get("options"))
    code = call.inner_deindented().strip("\n")
    linenos = options.get("linenos", "false").lower()
    mode = "inline" if linenos == "inline" else "table" if linenos in ("true", "table") else ""
    start = _int(options.get("linenostart"), 1)
    lines = _hl_lines(options.get("hl_lines", ""))
    body = pygments_highlight(code, _lexer(lang), _formatter(lines))
    if mode == "inline":  # Pygments numbers lines only when it wraps the block itself
        numbers = iter(range(start, start + body.count("\n") + 1))
        number = lambda m: f'{m.group(0)}<span class="ln">{next(numbers)}</span>'  # noqa: E731
        body = _LINE_START.sub(number, body.rstrip("\n")) + "\n"
    block = f'<pre class="highlight"><code class="language-{lang}" data-lang="{lang}">{body}</code></pre>'
    if mode != "table":
        return _html(block)
    count = code.count("\n") + 1
    numbers = "\n".join(str(n) for n in range(start, start + count))
    return _html(f'<div class="highlight"><table class="highlighttable"><tr><td class="linenos">'
                 f'<pre>{numbers}</pre></td><td class="code">{block}</td></tr></table></div>')


def _options(text: str) -> dict[str, str]:
    """Hugo's highlight options, `key=value` separated by commas."""
    found: dict[str, str] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key.strip():
            found[key.strip().lower()] = value.strip()
    return found


def _int(value: str | None, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _hl_lines(text: str) -> tuple[int, ...]:
    """Lines to mark (`2 3`, `4-6`): positions in the block, whatever `linenostart` says (as in Hugo)."""
    found: list[int] = []
    for part in text.replace(",", " ").strip("[] ").split():
        low, _, high = part.partition("-")
        first, last = _int(low, 0), _int(high or low, 0)
        found += [n for n in range(first, min(last, first + 10000) + 1) if n > 0]
    return tuple(sorted(set(found)))


@lru_cache(maxsize=64)
def _lexer(lang: str):
    try:
        return get_lexer_by_name(lang, stripnl=False)
    except ClassNotFound:
        return get_lexer_by_name("text", stripnl=False)


@lru_cache(maxsize=64)
def _formatter(lines: tuple[int, ...]) -> HtmlFormatter:
    return HtmlFormatter(nowrap=True, hl_lines=list(lines))


# -- figure, details, param ------------------------------------------------------------------

def figure(call: Call, context: Context) -> tuple[str, bool]:
    """Hugo's `figure`: an image, optionally linked, with a title, caption and attribution."""
    get = call.get
    out = [f'<figure class="{_attr(get("class"))}">' if get("class") else "<figure>"]
    if get("link"):
        out.append(f'<a href="{_attr(get("link"))}"'
                   + (f' target="{_attr(get("target"))}"' if get("target") else "")
                   + (f' rel="{_attr(get("rel"))}"' if get("rel") else "") + ">")
    alt = get("alt") or markup.plain_text(_inline_markdown(get("caption")))
    out.append(f'<img src="{_attr(get("src"))}"' + (f' alt="{_attr(alt)}"' if get("alt") or get("caption") else "")
               + "".join(f' {key}="{_attr(get(key))}"' for key in ("width", "height", "loading") if get(key)) + ">")
    if get("link"):
        out.append("</a>")
    if get("title") or get("caption") or get("attr"):
        out.append("<figcaption>")
        if get("title"):
            out.append(f"<h4>{html.escape(get('title'), quote=False)}</h4>")
        if get("caption") or get("attr"):
            attr = _inline_markdown(get("attr"))
            if get("attrlink"):
                attr = f'<a href="{_attr(get("attrlink"))}">{attr}</a>'
            out.append(f"<p>{_inline_markdown(get('caption'))}{' ' if get('caption') and attr else ''}{attr}</p>")
        out.append("</figcaption>")
    out.append("</figure>\n")
    return _html("".join(out))


def details(call: Call, context: Context) -> tuple[str, bool]:
    """Hugo's `details`: a <details> element, its summary and content rendered as Markdown."""
    get = call.get
    attrs = "".join(f' {key}="{_attr(get(key))}"' for key in ("class", "name") if get(key))
    if get("open").lower() in ("true", "1"):
        attrs += " open"
    if get("title"):
        attrs += f' title="{_attr(get("title"))}"'
    summary = _inline_markdown(get("summary") or "Details")
    inner = markup.to_html(call.inner_deindented().strip("\n")) if (call.inner or "").strip() else ""
    return _html(f"<details{attrs}>\n  <summary>{summary}</summary>\n  {inner}</details>\n")


def param(call: Call, context: Context) -> tuple[str, bool]:
    """Hugo's `param`: a front-matter value of the page, else of the site's params (`a.b` reaches in)."""
    key = call.get(0) or call.get("name")
    if not key:
        context.error(call.line, "the `param` shortcode needs the name of a parameter", 'write `{{< param "name" >}}`')
        return "", False
    site_params = dict(context.shortcodes.site).get("params") or {}
    for params in (context.page.params, site_params):
        value = _dig(params, key.split("."))
        if value is not None and value != "":
            return html.escape(str(value), quote=False), False
    context.error(call.line, f'param "{key}" is not set in the front matter nor in the site\'s params',
                  f"add `{key}:` to the front matter or the site's params")
    return "", False


def _dig(params: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(params, dict):
            return None
        lowered = {str(k).lower(): v for k, v in params.items()}
        params = lowered.get(key.lower())
    return params


# -- embeds: a link, swapped for the player only when the reader clicks ----------------------

def _embed(context: Context, kind: str, link: str, label: str, player: str, ratio: str = "16/9",
           css: str = "") -> tuple[str, bool]:
    """A link to the original, which the page's script (once a page) swaps for `player` on a click."""
    data = f' data-embed="{_attr(player)}"' + (f' data-ratio="{ratio}"' if ratio else "")
    classes = f"embed embed-{kind}" + (f" {css}" if css else "")
    script = "" if any(EMBED_SCRIPT in f for f in context.result.fragments.values()) else EMBED_SCRIPT
    return _html(f'<div class="{_attr(classes)}"{data}><a class="embed-link" href="{_attr(link)}">{label}</a>'
                 f"</div>{script}\n")


def _flag(value: str) -> bool:
    return value.lower() in ("true", "1", "yes")


def youtube(call: Call, context: Context) -> tuple[str, bool]:
    video = _ID.sub("", call.get("id") or call.get(0))
    if not video:
        return _missing(call, context, "id", "youtube VIDEO_ID")
    title = call.get("title") or "YouTube video"
    start, end = _int(call.get("start"), 0), _int(call.get("end"), 0)
    query = f"autoplay=1&start={start}" + (f"&end={end}" if end else "")
    for key in ("loop", "mute"):
        if _flag(call.get(key)):
            query += f"&{key}=1" + (f"&playlist={video}" if key == "loop" else "")
    link = f"https://www.youtube.com/watch?v={video}" + (f"&t={start}s" if start else "")
    return _embed(context, "youtube", link, f"{html.escape(title)} (watch on YouTube)",
                  f"https://www.youtube-nocookie.com/embed/{video}?{query}", css=call.get("class"))


def vimeo(call: Call, context: Context) -> tuple[str, bool]:
    video = _ID.sub("", call.get("id") or call.get(0))
    if not video:
        return _missing(call, context, "id", "vimeo VIDEO_ID")
    title = call.get("title") or "Vimeo video"
    return _embed(context, "vimeo", f"https://vimeo.com/{video}", f"{html.escape(title)} (watch on Vimeo)",
                  f"https://player.vimeo.com/video/{video}?dnt=1&autoplay=1", css=call.get("class"))


def x_post(call: Call, context: Context) -> tuple[str, bool]:
    """`x`, and the older `tweet`/`twitter` (`{{< tweet user="u" id="1" >}}` or `{{< tweet 1 >}}`)."""
    post = _ID.sub("", call.get("id") or (call.get(1) if len(call.positional) > 1 else call.get(0)))
    user = _ID.sub("", call.get("user") or (call.get(0) if len(call.positional) > 1 else ""))
    if not post:
        return _missing(call, context, "id", 'x user="USER" id="POST_ID"')
    link = f"https://x.com/{user or 'i/web'}/status/{post}"
    label = f"View the post by @{html.escape(user)} on X" if user else "View the post on X"
    return _embed(context, "x", link, label, f"https://platform.twitter.com/embed/Tweet.html?id={post}&dnt=true", "4/5")


def instagram(call: Call, context: Context) -> tuple[str, bool]:
    post = _ID.sub("", call.get("id") or call.get(0))
    if not post:
        return _missing(call, context, "id", "instagram POST_ID")
    return _embed(context, "instagram", f"https://www.instagram.com/p/{post}/", "View this post on Instagram",
                  f"https://www.instagram.com/p/{post}/embed/", "4/5")


def gist(call: Call, context: Context) -> tuple[str, bool]:
    user, gist_id, file = (_ID.sub("", call.get(n) or call.get(key))
                           for n, key in ((0, "user"), (1, "id"), (2, "file")))
    if not user or not gist_id:
        return _missing(call, context, "user and id", "gist USER GIST_ID [FILE]")
    link = f"https://gist.github.com/{user}/{gist_id}" + (f"#file-{file.replace('.', '-').lower()}" if file else "")
    label = f"View {html.escape(file) if file else 'the gist'} by {html.escape(user)} on GitHub"
    player = f"https://gist.github.com/{user}/{gist_id}.pibb" + (f"?file={quote(file)}" if file else "")
    return _embed(context, "gist", link, label, player, "")


def _missing(call: Call, context: Context, what: str, usage: str) -> tuple[str, bool]:
    context.warn(call.line, f"the `{call.name}` shortcode needs its {what}; it is left out",
                 f"write `{{{{< {usage} >}}}}`")
    return "", True


# -- ref, relref, qr -------------------------------------------------------------------------

def ref(call: Call, context: Context) -> tuple[str, bool]:
    """`ref`/`relref`: a mark resolved to the target's URL once every page is known (refs.py)."""
    target = call.get(0) or call.get("path")
    if not target:
        context.error(call.line, f"the `{call.name}` shortcode needs the path of a page",
                      f'write `{{{{< {call.name} "posts/my-post.md" >}}}}`')
        return "", True
    return refs.mark(call.name == "ref", target, context.page.path, call.line), True


def qr_code(call: Call, context: Context) -> tuple[str, bool]:
    """Hugo's `qr`: the code as an inline SVG image (a data: URL), `scale` pixels a module."""
    text = call.get("text") or (call.inner or "").strip()
    if not text:
        context.error(call.line, "the `qr` shortcode needs a text", 'write `{{< qr text="https://example.org" />}}`')
        return "", True
    level = call.get("level") or "medium"
    if level not in qr.LEVELS:
        context.error(call.line, f'qr level "{level}" is not one of low, medium, quartile, high', "pick one of them")
        return "", True
    scale = _int(call.get("scale"), 4)
    try:
        image, size = qr.svg_data_url(text, level, max(2, scale))
    except ValueError as exc:
        context.error(call.line, f"qr: {exc}", "encode a shorter text")
        return "", True
    attrs = "".join(f' {key}="{_attr(call.get(key))}"' for key in ("alt", "class", "id", "title", "loading")
                    if call.get(key))
    return _html(f'<img src="{image}" width="{size}" height="{size}"{attrs}>\n')


BUILT_INS = {
    "highlight": highlight, "figure": figure, "details": details, "param": param,
    "youtube": youtube, "vimeo": vimeo, "x": x_post, "tweet": x_post, "twitter": x_post,
    "instagram": instagram, "gist": gist, "ref": ref, "relref": ref, "qr": qr_code,
}
