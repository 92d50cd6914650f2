"""The page the dev server shows in place of every page while the site does not build."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from bitopia_site.errors import SiteError

CONTEXT_LINES = 3
MAX_SOURCE_BYTES = 2_000_000


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


def render_error_page(errors: list[SiteError], root: Path, script_tag: str) -> bytes:
    """A self-contained HTML page listing every error with its source lines; it reloads itself."""
    count = len(errors)
    items = "\n".join(_error_html(err, root) for err in errors)
    page = f"""<!DOCTYPE html>
<html lang="en" data-bitopia-error>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Build failed · bitopia</title>
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


def _error_html(err: SiteError, root: Path) -> str:
    where = html.escape(err.path or "(the site)") + (f":{err.line}" if err.line else "")
    hint = f'<p class="hint">{html.escape(err.hint)}</p>' if err.hint else ""
    shown = excerpt(err, root)
    code = ""
    if shown is not None:
        width = len(str(shown.lines[-1][0]))
        rows = []
        for number, text in shown.lines:
            mark = ' class="bad"' if number == shown.line else ""
            rows.append(f'<span{mark}><span class="n">{number:>{width}}</span> {html.escape(text)}</span>')
        code = f'<pre class="source">{chr(10).join(rows)}</pre>'
    return (f'<section class="error"><h2 class="where">{where}</h2>'
            f'<p class="message">{html.escape(err.message)}</p>{hint}{code}</section>')


_STYLE = """
body { margin: 0; background: #fbf3f2; color: #222; font: 16px/1.5 system-ui, sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 2rem 1rem; }
h1 { color: #a31515; margin-top: 0; }
.error { background: #fff; border-left: 6px solid #c62828; padding: 1rem 1.25rem; margin: 1rem 0;
         box-shadow: 0 1px 3px rgba(0,0,0,.1); }
.where { font: 600 1rem ui-monospace, monospace; margin: 0 0 .5rem; word-break: break-all; }
.message { margin: 0 0 .25rem; font-weight: 600; }
.hint { margin: 0; color: #555; }
.source { background: #272822; color: #f8f8f2; padding: .75rem 0; overflow-x: auto; font-size: .9rem; }
.source > span { display: block; padding: 0 1rem; white-space: pre; }
.source .bad { background: #7a1f1f; }
.source .n { color: #999; user-select: none; margin-right: .75rem; }
"""
