"""A site's own shortcodes: Jinja templates in `templates/shortcodes/NAME.html`, run in Jinja's
sandbox with autoescaping, as the theme's templates are.

What stands for Hugo's: `.Get 0` / `.Get "name"` -> `get(0)` / `get("name")` (`get("x", "default")`),
`.Params` -> `params` (a list, or a mapping for named arguments), `.IsNamedParams` ->
`is_named_params`, `.Inner` -> `inner` (HTML, printed as it is), `.Name` -> `name`, `.Position`
-> `position`, `.Page` -> `page` (title, date, params, url), `.Site` -> `site` (title, base_url,
params); `markdownify` is a filter.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from bitopia_site import markup
from bitopia_site.errors import SiteError
from bitopia_site.shortcodes import Call, Context, ShortcodeSet, load
from bitopia_site.theme import load_theme
from bitopia_site.wording import plural


def render(call: Call, context: Context, file: str, source: str) -> str:
    """The output of the site's template for `call`; a broken template is an error naming it."""
    env = _environment(context.shortcodes)
    page = context.page
    params: Any = dict(call.named) if call.is_named else list(call.positional)
    values = {
        "get": call.get, "params": params, "is_named_params": call.is_named, "name": call.name,
        "inner": Markup(call.inner or ""), "position": f"{page.path}:{call.line}",
        "page": {"title": page.title, "date": page.date, "params": page.params, "url": page.url},
        "site": dict(context.shortcodes.site),
    }
    try:
        return env.get_template(call.name).render(values)
    except jinja2.TemplateSyntaxError as exc:
        context.result.errors.append(SiteError(file, f"shortcode template: {exc.message}", "fix the template",
                                               exc.lineno))
    except jinja2.TemplateError as exc:
        context.error(call.line, f"shortcode `{call.name}` ({file}) failed: {exc}", "fix the template or the call")
    except RecursionError:
        context.error(call.line, f"shortcode `{call.name}` ({file}) calls itself without end", "fix the template")
    except Exception as exc:  # noqa: BLE001 - a template is the site's code: whatever it raises is its error
        context.error(call.line, f"shortcode `{call.name}` ({file}) failed: {type(exc).__name__}: {exc}",
                      "fix the template or the call")
    return ""


@lru_cache(maxsize=4)
def _environment(shortcodes: ShortcodeSet) -> SandboxedEnvironment:
    """One sandboxed environment for a set of shortcode templates (made once a process)."""
    env = SandboxedEnvironment(
        loader=jinja2.DictLoader({name: source for name, _, source in shortcodes.templates}),
        autoescape=True, keep_trailing_newline=True, undefined=jinja2.ChainableUndefined)
    env.filters["markdownify"] = lambda text: Markup(_inline(markup.to_html(str(text))))
    return env


def _inline(rendered: str) -> str:
    rendered = rendered.strip()
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        return rendered[3:-4]
    return rendered


UNKNOWN = "shortcode `{}` cannot run here ({}): its inner content is shown in its place"


def unknown(call: Call, context: Context) -> SiteError:
    """The warning for a shortcode that is neither built in nor a Jinja template of the site;
    `merge_unknown` makes one of those of a name."""
    go = context.shortcodes.go_template(call.name)
    why = f"{go} is a Go template" if go else "no template for it was found"
    return SiteError(context.page.path, UNKNOWN.format(call.name, why),
                     f"write it as a Jinja template in templates/shortcodes/{call.name}.html", call.line)


def merge_unknown(warnings: list[SiteError]) -> list[SiteError]:
    """The warnings with those of unknown shortcodes made one per name, naming the files using it."""
    prefix = UNKNOWN.split("`")[0]
    by_name: dict[str, list[SiteError]] = {}
    others = []
    for warning in warnings:
        if warning.message.startswith(prefix) and warning.message.endswith(UNKNOWN.split(")")[-1]):
            by_name.setdefault(warning.message.split("`")[1], []).append(warning)
        else:
            others.append(warning)
    for name, found in sorted(by_name.items()):
        files = sorted({w.path or "" for w in found})
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        first = found[0]
        uses = f"{plural(len(found), 'time')} in {plural(len(files), 'file')}"
        others.append(SiteError(None, f"{first.message} — used {uses}: {shown}", first.hint))
    return others


def site_shortcodes(config: Any) -> ShortcodeSet:
    """The shortcodes of a site (a SiteConfig): its own and its themes' Jinja templates, the Go
    templates of its Hugo layouts/, and what templates see as `site`."""
    try:
        theme = load_theme(config.root, config.theme)
        dirs, params = theme.template_dirs, {**theme.params, **config.params}
    except SiteError:
        dirs, params = (), dict(config.params)
    theme_roots = tuple(folder.parent for folder in dirs if folder.parent != config.root)
    if getattr(config, "theme", "") and (config.root / "themes" / config.theme).is_dir():
        theme_roots += (config.root / "themes" / config.theme,)
    site = {"title": config.title, "base_url": config.base_url, "params": params}
    return load(config.root, dirs, theme_roots, site)
