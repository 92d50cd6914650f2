"""The page the dev server shows in place of every page while the site does not build."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from bitopia_site.errors import SiteError
from bitopia_site.wording import plural

CONTEXT_LINES = 3
MAX_SOURCE_BYTES = 2_000_000
# A template error is reported once for each page the template renders: "... while rendering /a/: ..."
_RENDERING = re.compile(r" while rendering (\S+):")


@dataclass(frozen=True)
class Excerpt:
    """Lines of a source file around an error: (number, text) pairs and the offending line."""

    lines: tuple[tuple[int, str], ...]
    line: int


def source_file(err: SiteError, root: Path) -> Path | None:
    """The file an error names, as a path on disk (relative paths are below the site root)."""
    if not err.path:
        return None
    path = Path(err.path)
    return path if path.is_absolute() else root / path


def excerpt(err: SiteError, root: Path, context: int = CONTEXT_LINES) -> Excerpt | None:
    """The lines around `err.line` in the file it names; None when there is no line or file."""
    path = source_file(err, root)
    if path is None or not err.line:
        return None
    try:
        if not path.is_file() or path.stat().st_size > MAX_SOURCE_BYTES:
            return None
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
    lines = text.splitlines()
    if not 1 <= err.line <= len(lines):
        return None
    first = max(1, err.line - context)
    last = min(len(lines), err.line + context)
    return Excerpt(tuple((n, lines[n - 1]) for n in range(first, last + 1)), err.line)


@dataclass(frozen=True)
class Shown:
    """One error as the page shows it, and the pages it broke (the same template error on many pages)."""

    error: SiteError
    pages: tuple[str, ...]


def distinct(errors: list[SiteError]) -> list[Shown]:
    """Each error once, in the order first seen: the build reports a template error for every page
    that uses the template, so errors alike but for the page they name are one, naming its pages."""
    found: dict[tuple[str, int, str], list[str]] = {}
    first: dict[tuple[str, int, str], SiteError] = {}
    for err in errors:
        page = _RENDERING.search(err.message)
        key = (err.path or "", err.line or 0, _RENDERING.sub(":", err.message) if page else err.message)
        first.setdefault(key, err)
        pages = found.setdefault(key, [])
        if page and page.group(1) not in pages:
            pages.append(page.group(1))
    return [Shown(first[key], tuple(pages)) for key, pages in found.items()]


def render_error_page(errors: list[SiteError], root: Path, script_tag: str) -> bytes:
    """A self-contained HTML page listing every error once with its source lines, light or dark as
    the reader's system (or their choice in the theme's toggle) asks; it reloads itself."""
    shown = distinct(errors)
    count = len(shown)
    items = "\n".join(_error_html(one, root) for one in shown)
    page = f"""<!DOCTYPE html>
<html lang="en" data-bitopia-error>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Build failed · bitopia</title>
<script>try{{var t=localStorage.getItem("bitopia-theme");if(t==="light"||t==="dark")document.documentElement.setAttribute("data-theme",t)}}catch(e){{}}</script>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>The site did not build</h1>
<p class="lead">{count} error{'s' if count != 1 else ''}. Fix {'it' if count == 1 else 'them'} and save:
this page reloads by itself after the next good build.</p>
{items}
</main>
{script_tag}
</body>
</html>
"""
    return page.encode("utf-8")


def _error_html(one: Shown, root: Path) -> str:
    err = one.error
    where = html.escape(err.path or "(the site)") + (f":{err.line}" if err.line else "")
    message = _RENDERING.sub(":", err.message) if one.pages else err.message
    hint = f'<p class="hint">{html.escape(err.hint)}</p>' if err.hint else ""
    shown = excerpt(err, root)
    code = ""
    if shown is not None:
        width = len(str(shown.lines[-1][0]))
        rows = []
        for number, text in shown.lines:
            mark = ' class="bad"' if number == shown.line else ""
            rows.append(f'<span{mark}><span class="n">{number:>{width}}</span> {html.escape(text)}</span>')
        code = f'<pre class="source">{"".join(rows)}</pre>'  # each line a block: no newline between
    pages = ""
    if one.pages:
        listed = ", ".join(f"<code>{html.escape(page)}</code>" for page in one.pages[:5])
        more = f" and {len(one.pages) - 5} more" if len(one.pages) > 5 else ""
        pages = f'<p class="pages">On {plural(len(one.pages), "page")}: {listed}{more}</p>'
    return (f'<section class="error"><h2 class="where">{where}</h2>'
            f'<p class="message">{html.escape(message)}</p>{pages}{hint}{code}</section>')


# Light unless the system is dark and the reader did not choose light, or the reader chose dark.
_DARK = "--bg: #1a1414; --card: #242020; --fg: #ece6e6; --muted: #b9aeae; --title: #ff8f8f; --shadow: none;"
_STYLE = f"""
:root {{ --bg: #fbf3f2; --card: #fff; --fg: #222; --muted: #555; --title: #a31515;
        --shadow: 0 1px 3px rgba(0,0,0,.1); color-scheme: light; }}
:root[data-theme="dark"] {{ {_DARK} color-scheme: dark; }}
@media (prefers-color-scheme: dark) {{ :root:not([data-theme="light"]) {{ {_DARK} color-scheme: dark; }} }}
body {{ margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, sans-serif; }}
main {{ max-width: 60rem; margin: 0 auto; padding: 2rem 1rem; }}
h1 {{ color: var(--title); margin-top: 0; }}
.error {{ background: var(--card); border-left: 6px solid #c62828; padding: 1rem 1.25rem; margin: 1rem 0;
         box-shadow: var(--shadow); }}
.where {{ font: 600 1rem ui-monospace, monospace; margin: 0 0 .5rem; word-break: break-all; }}
.message {{ margin: 0 0 .25rem; font-weight: 600; }}
.hint, .pages {{ margin: 0 0 .25rem; color: var(--muted); }}
.pages code {{ word-break: break-all; }}
.source {{ background: #272822; color: #f8f8f2; padding: .75rem 0; overflow-x: auto; font-size: .9rem; }}
.source > span {{ display: block; padding: 0 1rem; white-space: pre; }}
.source .bad {{ background: #7a1f1f; }}
.source .n {{ color: #999; user-select: none; margin-right: .75rem; }}
"""
