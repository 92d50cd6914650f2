"""Jinja2 over the plan: OutputPage -> bytes. Reads templates, writes nothing."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import traceback
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Callable

import jinja2
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markupsafe import Markup

from bitopia_site import codegen, fences, urls
from bitopia_site.content_filters import heading_anchors, scrollable
from bitopia_site.cache import code_version
from bitopia_site.body import Body
from bitopia_site.config import SiteConfig
from bitopia_site.errors import SiteError
from bitopia_site.json_ld import blog_posting
from bitopia_site.link_style import link_style
from bitopia_site.markup import pygments_css
from bitopia_site.model import OutputPage
from bitopia_site.sources import inside
from bitopia_site.theme import Theme
from bitopia_site.share_links import share_links
from bitopia_site.xmltext import xml_text


def make_environment(config: SiteConfig, theme: Theme, site_globals: dict[str, Any],
                     bytecode_dir: Path | None = None) -> jinja2.Environment:
    """An autoescaping Jinja2 environment over the theme chain, in Jinja's sandbox (a theme is
    someone else's code: it reads what it is given, calls no Python internals, and loads templates
    only from its own folders); compiled templates are kept in `bytecode_dir` so the next build
    need not compile them again."""
    env = (_Environment if fences.covered("jinja2") else SandboxedEnvironment)(
        bytecode_cache=_bytecode_cache(bytecode_dir) if bytecode_dir is not None else None,
        loader=_FolderLoader(theme.template_dirs, config.root),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"], default_for_string=True),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.ChainableUndefined,
        auto_reload=False,  # one environment per build: templates do not change under it
    )
    base_path = config.base_path
    scheme, rest = config.base_url.split("://", 1)
    origin = f"{scheme}://{rest.split('/', 1)[0]}"

    links: dict[str, str] = {}

    def url_for(path: str) -> str:
        path = str(path or "/")
        link = links.get(path)
        if link is None:
            link = links[path] = urls.join(base_path, path)
        return link

    def abs_url(path: str) -> str:
        link = url_for(path)
        return link if "://" in link else origin + link

    site = site_globals.get("site", {})

    def json_ld(page: dict[str, Any], description: Any = "", image: Any = "") -> Markup:
        return blog_posting(page, description, image, site, abs_url, _json_default)

    fragments = Fragments(env)
    env.globals.update(site_globals, url_for=url_for, abs_url=abs_url, pygments_css=pygments_css,
                       once=fragments.once, memo=fragments.memo, share_links=share_links, json_ld=json_ld)
    env.extend(bitopia_fragments=fragments, bitopia_link_style=link_style(config))
    has_file = site.get("has_file")
    env.plain_calls = frozenset(id(f) for f in (url_for, abs_url, pygments_css, env.globals["once"],
                                                env.globals["memo"], has_file, share_links, json_ld) if f is not None)
    read_bodies_as_text(env)
    env.filters.update(
        date=_DateTexts(_format_date), iso=_DateTexts(datetime.isoformat),
        rfc822=lambda d: format_datetime(d) if isinstance(d, datetime) else "", absolute=abs_url,
        url=url_for, striptags_safe=lambda s: Markup(s).striptags(), xmltext=xml_text, first_words=first_words,
        scrollable=scrollable, heading_anchors=heading_anchors,
    )
    return env


def first_words(text: str, count: int | None) -> str:
    """The first `count` words of `text`, one space apart, and "…" when there were more; all of
    them without a count (Jinja's `split`, `join` and slice, without its escaping of each word)."""
    words = str(text).split()
    if count and len(words) > count:
        return " ".join(words[:count]) + "…"
    return " ".join(words)


def _bytecode_cache(folder: Path) -> jinja2.BytecodeCache | None:
    """Compiled templates kept in `folder`, named after the code that compiled them (codegen's own
    code generator writes other code than Jinja's) and signed with this machine's key, so that one
    that came with the site is never loaded; those of other code are removed. None without a key."""
    from bitopia_site.cache import SignedBytecodeCache, is_compiled_template, machine_key

    key = machine_key()
    if key is None:
        return None
    prefix = f"__{hashlib.blake2b(code_version().encode(), digest_size=6).hexdigest()}_"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for entry in os.scandir(folder):
            if is_compiled_template(entry.name) and not entry.name.startswith(prefix):
                os.unlink(entry.path)
    except OSError:
        return None
    return SignedBytecodeCache(folder, prefix, key)


def read_bodies_as_text(env: jinja2.Environment) -> None:
    """The few filters and tests that ask for a str see a document's HTML (a Body) as its text:
    `tojson`, `reverse`, `urlencode`, `replace` (outside autoescaping), `is string`."""
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": _json_default}
    for name in ("reverse", "urlencode", "replace"):
        env.filters[name] = _on_text(env.filters[name])
    env.tests["string"] = lambda value: isinstance(value, (str, Body))


def _on_text(apply: Callable[..., Any]) -> Callable[..., Any]:
    """The filter `apply`, given a Body's text in place of the Body."""
    at = 1 if getattr(apply, "jinja_pass_arg", None) else 0  # after the context Jinja passes first

    @functools.wraps(apply)  # keeps jinja_pass_arg
    def on_text(*args: Any, **kwargs: Any) -> Any:
        if len(args) > at and isinstance(args[at], Body):
            args = (*args[:at], args[at].text(), *args[at + 1:])
        return apply(*args, **kwargs)
    return on_text


def _json_default(value: Any) -> str:
    if isinstance(value, Body):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_DICT_ATTRIBUTES = frozenset(dir(dict))
# Jinja's own objects whose public attributes are plain values: a loop, an imported template.
_PLAIN_OBJECTS = frozenset({jinja2.runtime.LoopContext, jinja2.environment.TemplateModule})
_MISSING = object()


class _Template(jinja2.Template):
    """A template whose compiled code has codegen's escape_text (see RunCodeGenerator)."""

    @classmethod
    def _from_namespace(cls, environment: jinja2.Environment, namespace: Any, globals: Any) -> jinja2.Template:
        namespace[codegen.ESCAPE_TEXT] = codegen.escape_text
        return super()._from_namespace(environment, namespace, globals)


class _FolderLoader(jinja2.FileSystemLoader):
    """Jinja's loader over the template folders, refusing a template that is a link to a file
    outside the site and the theme folders: an `{% include %}` reads nothing else on the machine."""

    def __init__(self, folders: tuple[Path, ...], root: Path) -> None:
        super().__init__([str(folder) for folder in folders])
        self.homes = {os.path.realpath(home) for home in (root, *(folder.parent for folder in folders))}

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        target = os.path.realpath(filename)
        if not any(inside(target, home) for home in self.homes):
            raise SecurityError(f"template `{template}` is a link to {target}, outside the site and its "
                                "themes; copy the file into the theme instead of linking to it")
        return source, filename, uptodate


class _Context(jinja2.runtime.Context):
    """Jinja's context, made with what its environment already knows of the template (whether
    it autoescapes, which Jinja asks `select_autoescape` again each time): a post page makes a
    dozen, one for each include, and making one took a third of an include's time."""

    def __init__(self, environment: Any, parent: dict[str, Any], name: str | None,
                 blocks: dict[str, Any], globals: Any = None) -> None:  # noqa: A002 - Jinja's name
        self.parent = parent
        self.vars = {}
        self.environment = environment
        self.eval_ctx = environment.eval_context(name)
        self.exported_vars = set()
        self.name = name
        self.globals_keys = set() if globals is None else set(globals)
        self.blocks = {key: [block] for key, block in blocks.items()} if blocks else {}


class _Environment(SandboxedEnvironment):
    """Jinja's environment, made quicker where a page passes many times: loading a template (each
    include), making a context for it, copying the templates' globals into it, reading
    `view.field` on the plain dicts of views.py, calling our own functions (`call`), and printing
    (codegen: each run of output yielded at once, a str escaped inline). Every template sees what
    it would have seen, and prints what it would have printed."""

    template_class = _Template
    context_class = _Context
    code_generator_class = codegen.RunCodeGenerator
    plain_calls: frozenset[int] = frozenset()  # ids of the functions `call` calls straight away

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, jinja2.Template] = {}
        self._autoescapes: dict[str | None, Any] = {}

    def eval_context(self, name: str | None) -> jinja2.nodes.EvalContext:
        """A new EvalContext for the template `name`, as `EvalContext(self, name)` makes it."""
        autoescape = self._autoescapes.get(name, _MISSING)
        if autoescape is _MISSING:
            autoescape = self.autoescape(name) if callable(self.autoescape) else self.autoescape
            self._autoescapes[name] = autoescape
        made = jinja2.nodes.EvalContext.__new__(jinja2.nodes.EvalContext)
        made.environment, made.autoescape, made.volatile = self, autoescape, False
        return made

    def _load_template(self, name: str, globals: Any) -> jinja2.Template:
        """Jinja's, with a plain dict in front of its LRU cache, which takes a lock and reorders a
        queue on every hit: a page loads its template and each include anew (ten or so). Without
        auto_reload, a loaded template stays as it is."""
        template = self._loaded.get(name)
        if template is None or globals or self.auto_reload:
            template = self._loaded[name] = super()._load_template(name, globals)
        return template

    def make_globals(self, d: Any) -> dict[str, Any]:
        """A template's globals as one plain dict, where Jinja makes a ChainMap over the
        environment's: each render and each include copies them into a new context, and copying a
        ChainMap key by key took a sixth of a post page's time. make_environment sets every global
        before a template is loaded, so a copy sees all of them."""
        return {**self.globals, **(d or {})}

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """The sandbox's call, calling this environment's own functions (`url_for`, `once`...)
        straight away: the sandbox's check and Jinja's look for a pass_context mark cost about
        1.5 us a call, some 300,000 times in a build of 10,000 posts, and ours are safe, unmarked."""
        if id(__obj) in __self.plain_calls:
            if kwargs:  # the loop and block variables Jinja passes for a function that takes a context
                kwargs.pop("_block_vars", None)
                kwargs.pop("_loop_vars", None)
            return __obj(*args, **kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`obj.attribute`, straight from the dict for a view: Jinja's own lookup tries the attribute
        first and only then the key, raising and catching an AttributeError for each of the ~75
        lookups a page makes. Dict methods (`d.items`) resolve as in Jinja. A public attribute of
        a loop or an imported template (`loop.first`, `settings.date_format`) is a value the
        sandbox would let through: it is read without the sandbox's checks."""
        kind = type(obj)
        if kind is dict and attribute not in _DICT_ATTRIBUTES:
            value = obj.get(attribute, _MISSING)
            if value is not _MISSING:
                return value
        elif kind in _PLAIN_OBJECTS and not attribute.startswith("_"):
            value = getattr(obj, attribute, _MISSING)
            if value is not _MISSING:
                return value
        return super().getattr(obj, attribute)


class Fragments:
    """Template fragments rendered once per build and reused on every page that shows them. memo()'s
    fragments (one per post) are kept as Bodies: UTF-8, half the memory of text with curly quotes."""

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self._once: dict[str, Markup] = {}
        self._memos: dict[tuple[str, int], Body] = {}
        self._keys: dict[int, list[tuple[str, int]]] = {}  # id(item) -> its memos' keys, for forget()
        self.memo_names: set[str] = set()  # the templates memo() was asked for

    def once(self, name: str) -> Markup:
        """A template rendered once per build with the site's globals only (a sidebar, say):
        for fragments that are the same on every page."""
        fragment = self._once.get(name)
        if fragment is None:
            fragment = self._once[name] = Markup(self.env.get_template(name).render())
        return fragment

    def memo(self, name: str, item: Any) -> Markup:
        """A template rendered with `item` once per build (a post's card, shown on many lists)."""
        key = (name, id(item))
        kept = self._memos.get(key)
        if kept is not None:
            return kept.text()
        self.memo_names.add(name)
        fragment = self.make(name, item)
        self._keep(key, Body(fragment))
        return fragment

    def make(self, name: str, item: Any) -> Markup:
        """`memo(name, item)` rendered anew and not kept (by a worker process, for `keep`)."""
        return Markup(self.env.get_template(name).render(item=item))

    def keep(self, name: str, item: Any, fragment: bytes) -> None:
        """Take `memo(name, item)`, as UTF-8, rendered elsewhere (by a worker process)."""
        self._keep((name, id(item)), Body(fragment))

    def _keep(self, key: tuple[str, int], fragment: Body) -> None:
        if key not in self._memos:
            self._keys.setdefault(key[1], []).append(key)
        self._memos[key] = fragment

    def forget(self, item: Any) -> None:
        """Drop the fragments made from `item`: it was changed in place."""
        for key in self._keys.pop(id(item), ()):
            del self._memos[key]

    def clear(self) -> None:
        """Drop every fragment: the site's globals, which they may show, changed."""
        self._once.clear()
        self._memos.clear()
        self._keys.clear()


class _DateTexts:
    """A date filter that remembers its texts for the build: a post's date is written on its page,
    its card, each archive and feed that lists it, as often as ten times. Keyed by the date object
    itself (kept alive here, so its id is never another's): equal instants in other offsets differ."""

    def __init__(self, text: Callable[..., str]) -> None:
        self.text = text
        self.made: dict[tuple[int, tuple[Any, ...]], tuple[datetime, str]] = {}

    def __call__(self, value: Any, *args: Any) -> str:
        if type(value) is not datetime or any(type(arg) is not str for arg in args):
            return self.text(value, *args) if isinstance(value, datetime) else ""
        key = (id(value), args)
        known = self.made.get(key)
        if known is None:
            known = self.made[key] = (value, self.text(value, *args))
        return known[1]


def _format_date(value: datetime, fmt: str = "%B %-d, %Y") -> str:
    return value.strftime(fmt.replace("%-d", str(value.day)).replace("%-m", str(value.month)))


class Renderer:
    """Renders OutputPages; a template problem becomes a SiteError naming the template and line."""

    def __init__(self, env: jinja2.Environment, root: Path,
                 post_process: Callable[[OutputPage, str], str] | None = None) -> None:
        self.env = env
        self.root = root
        self.post_process = post_process
        self.link_style = getattr(env, "bitopia_link_style", None)  # canonifyURLs, relativeURLs (link_style.py)
        self._selected: dict[tuple[str, ...], jinja2.Template] = {}  # the environment never reloads a template

    def render(self, page: OutputPage) -> bytes:
        try:
            template = self._selected.get(page.templates)
            if template is None:
                template = self._selected[page.templates] = self.env.select_template(list(page.templates))
        except jinja2.TemplatesNotFound:
            source = page.context.get("page", {}).get("source") if isinstance(page.context.get("page"), dict) else None
            names = " or ".join(f"`{name}`" for name in page.templates)
            raise SiteError(source or page.url, f"template {names} not found",
                            "create it in templates/ or in the theme, or fix the `layout:` in front matter") from None
        except jinja2.TemplateSyntaxError as exc:
            raise self._syntax_error(exc) from None
        try:
            text = template.render({**page.context, "url": page.url})
        except jinja2.TemplateSyntaxError as exc:
            raise self._syntax_error(exc) from None
        except jinja2.TemplateNotFound as exc:
            path, line = self._where(sys.exc_info()[2])
            raise SiteError(path or template.filename, f"template `{exc.name}` not found",
                            "check the name in the include or extends", line) from None
        except Exception as exc:  # a theme's runtime error: report its template file and line
            path, line = self._where(sys.exc_info()[2])
            raise SiteError(path or template.filename, f"template error while rendering {page.url}: "
                            f"{type(exc).__name__}: {exc}", "fix the template", line) from None
        if self.link_style is not None:
            text = self.link_style(page, text)
        if self.post_process is not None:
            text = self.post_process(page, text)
        return text.encode("utf-8")

    def _syntax_error(self, exc: jinja2.TemplateSyntaxError) -> SiteError:
        return SiteError(self._relative(exc.filename or exc.name or "template"),
                         f"template syntax error: {exc.message}", "fix the template", exc.lineno)

    def _where(self, tb) -> tuple[str | None, int | None]:
        """The innermost template frame of a traceback: (file, line)."""
        found: tuple[str | None, int | None] = (None, None)
        for frame, line in traceback.walk_tb(tb):
            filename = frame.f_code.co_filename
            if filename.endswith((".html", ".xml", ".txt")):
                found = (self._relative(filename), line)
        return found

    def _relative(self, filename: str) -> str:
        try:
            return Path(filename).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return filename
