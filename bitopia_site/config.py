"""SiteConfig: the site's settings, from site.yaml or from a Hugo config file."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bitopia_site import list_titles, markdown_it_engine
from bitopia_site.errors import Report, SiteError
from bitopia_site.images import ImageSettings, settings_from as image_settings
from bitopia_site.related import RelatedSettings, settings_from_hugo, settings_from_site_yaml

CONFIG_SUFFIXES = (".toml", ".yaml", ".yml", ".json")  # the files Hugo reads in config/_default/
HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml",
                "config.json")

# Names starting with a dot that a static/ folder publishes, as web servers and hosts read them (Hugo
# publishes every file there; any other hidden file, an editor's or a tool's, stays out)
STATIC_DOTFILES = frozenset({".well-known", ".htaccess", ".nojekyll"})

DEFAULT_PERMALINKS = {"post": "/:year/:month/:day/:slug/", "page": "/:slug/"}

KNOWN_KEYS = {
    "title", "base_url", "author", "description", "language", "timezone", "paginate", "theme",
    "taxonomies", "permalinks", "menus", "params", "main_sections", "summary_words",
    "feed_limit", "feed_full_content", "publish", "copyright", "markdown_engine", "related",
    "search", "images",
}


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """Everything the build needs to know about the site; frozen once loaded."""

    root: Path
    title: str = "My Blog"
    base_url: str = "http://localhost/"
    author: str = ""
    description: str = ""
    language: str = "en"
    timezone: str = "UTC"
    paginate: int = 10
    theme: str = "bitopia"
    taxonomies: tuple[str, ...] = ("categories", "tags", "series")
    permalinks: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PERMALINKS))
    menus: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    main_sections: tuple[str, ...] = ("post", "posts", "blog")
    summary_words: int = 70
    feed_limit: int = 20
    feed_full_content: bool = False
    publish: str = ""
    copyright: str = ""
    markdown_engine: str = "cmark-gfm"  # or markdown-it-py (markdown_it_engine.py), in a site.yaml site
    related: RelatedSettings = RelatedSettings()  # how each post's related posts are found (related.py)
    search: bool = False  # a Pagefind index of the posts and pages, and a search page (search.py)
    images: ImageSettings = ImageSettings()  # sizes and smaller copies of the site's images (images.py)
    source_file: str = ""
    hugo: bool = False  # read from a Hugo config: Hugo's URLs and rules (DESIGN.md §1b)
    lower_paths: bool = True  # Hugo's disablePathToLower turns this off
    ignore_files: tuple[str, ...] = ()  # Hugo's ignoreFiles: regular expressions over content paths
    raw_html: bool = True  # raw HTML in Markdown kept; in a Hugo site only with markup.goldmark.renderer.unsafe
    build_drafts: bool = False  # Hugo's buildDrafts, buildFuture, buildExpired: as --drafts, --future, --expired
    build_future: bool = False
    build_expired: bool = False
    publish_dir: str = "output"  # the output folder when none is given (a Hugo site: its publishDir, else public)
    ugly_urls: bool = False  # Hugo's uglyURLs: a page at /posts/a.html, not /posts/a/
    canonify_urls: bool = False  # Hugo's canonifyURLs: root-relative links in HTML and XML made absolute
    relative_urls: bool = False  # Hugo's relativeURLs: root-relative links made relative to the page (wins)
    feed_name: str = "index.xml"  # the file name of every RSS feed (a Hugo config's outputFormats.RSS.baseName + .xml)
    pluralize_list_titles: bool = True  # Hugo's pluralizeListTitles and capitalizeListTitles (list_titles.py)
    capitalize_list_titles: bool = True
    kinds_off: tuple[str, ...] = ()  # Hugo's disableKinds that bitopia follows (LEFT_OUT_KINDS), sorted: a
    # setting's repr is part of cache keys and fingerprints, and a set's order changes from process to process

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The path part of base_url, always ending in '/': '/' or '/blog/'."""
        rest = self.base_url.split("://", 1)[-1]
        path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
        return path if path.endswith("/") else path + "/"

    def with_base_url(self, base_url: str) -> "SiteConfig":
        """A copy with another base URL (for --base-url and the dev server)."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields["base_url"] = base_url if base_url.endswith("/") else base_url + "/"
        return SiteConfig(**fields)

    def section_title(self, folder: str) -> str:
        """The title of a section page whose `_index.md` gives none (or that has none): Hugo's in a
        Hugo site, else the folder's name in title case."""
        if self.hugo:
            return list_titles.section_title(folder, self.pluralize_list_titles, self.capitalize_list_titles)
        return folder.replace("-", " ").title()

    def fingerprint(self) -> str:
        """A stable text of every setting, for cache keys."""
        return repr(sorted((n, repr(getattr(self, n))) for n in self.__dataclass_fields__))


def load_config(root: Path, report: Report) -> SiteConfig:
    """Read site.yaml, else a Hugo config, else defaults; problems go to the report."""
    root = root.resolve()
    site_yaml = root / "site.yaml"
    if site_yaml.is_file():
        data = _read_yaml(site_yaml)
        return _from_site_yaml(root, data, site_yaml, report)
    found = _read_hugo_config(root)
    if found is not None:
        return _from_hugo(root, *found, report)
    return _checked(SiteConfig(root=root), root / "site.yaml")


def _read_hugo_config(root: Path) -> tuple[dict[str, Any], Path] | None:
    """A Hugo site's config and the file named in messages: `hugo.toml` (or .yaml, .json, or the
    older `config.*`) at the root, merged over `config/_default/`, where each other file holds
    the top-level key it is named after (`params.toml` -> params, `menus.en.toml` -> menus)."""
    data: dict[str, Any] = {}
    shown: Path | None = None
    folder = root / "config" / "_default"
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix not in CONFIG_SUFFIXES or not path.is_file():
                continue
            values = _read_any(path)
            key = path.name.split(".")[0].lower()
            if key in ("hugo", "config"):
                data.update({k.lower(): v for k, v in values.items()})
                shown = path.relative_to(root)
            else:
                data[key] = _merged(data.get(key), values)
        shown = shown or (folder.relative_to(root) if data else None)
    for name in HUGO_CONFIGS:
        path = root / name
        if path.is_file():
            data.update({k.lower(): v for k, v in _read_any(path).items()})
            shown = Path(name)
            break
    return (data, root / shown) if shown is not None else None


def _read_any(path: Path) -> dict[str, Any]:
    if path.suffix == ".toml":
        return _read_toml(path)
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise SiteError(path.name, f"invalid JSON: {exc}", "fix the syntax of the config file") from None
        if not isinstance(data, dict):
            raise SiteError(path.name, "the config must be a mapping of keys to values", "write an object")
        return data
    return _read_yaml(path)


def _merged(old: Any, new: Any) -> Any:
    return {**old, **new} if isinstance(old, dict) and isinstance(new, dict) else new


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise SiteError(path.name, f"invalid YAML: {exc.problem}", "fix the syntax of the config file", line) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SiteError(path.name, f"cannot read the config: {exc}", "save it as UTF-8 YAML") from None
    if not isinstance(data, dict):
        raise SiteError(path.name, "the config must be a mapping of keys to values", "write `key: value` lines")
    return data


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SiteError(path.name, f"invalid TOML: {exc}", "fix the syntax of the config file") from None


def _from_site_yaml(root: Path, data: dict[str, Any], path: Path, report: Report) -> SiteConfig:
    for key in sorted(set(data) - KNOWN_KEYS):
        report.warn(SiteError(path.name, f"unknown setting `{key}`",
                              f"known settings: {', '.join(sorted(KNOWN_KEYS))}; free-form ones go under `params:`"))
    values: dict[str, Any] = {k: v for k, v in data.items() if k in KNOWN_KEYS and v is not None}
    if "taxonomies" in values:
        values["taxonomies"] = tuple(str(t) for t in values["taxonomies"])
    if "main_sections" in values:
        values["main_sections"] = tuple(str(t) for t in values["main_sections"])
    if "permalinks" in values:
        if not isinstance(values["permalinks"], dict):
            raise SiteError(path.name, "permalinks must map a section to a pattern", "write `posts: /:year/:slug/`")
        values["permalinks"] = {**DEFAULT_PERMALINKS, **{str(k): str(v) for k, v in values["permalinks"].items()}}
    if "menus" in values:
        values["menus"] = _checked_menus(values["menus"], path)
    if "related" in values:
        values["related"] = settings_from_site_yaml(values["related"], path)
    if "search" in values and not isinstance(values["search"], bool):
        raise SiteError(path.name, f"search must be true or false, not {values['search']!r}",
                        "write `search: true` for a search page and its index, or `search: false`")
    if "images" in data:
        values["images"] = image_settings(data["images"], path.name)
    if "base_url" in values and not str(values["base_url"]).endswith("/"):
        values["base_url"] = str(values["base_url"]) + "/"
    try:
        config = SiteConfig(root=root, source_file=path.name, **values)
    except TypeError as exc:
        raise SiteError(path.name, f"a setting has the wrong type: {exc}", "see the README for each setting") from None
    return _checked(config, path)


def _from_hugo(root: Path, raw: dict[str, Any], path: Path, report: Report) -> SiteConfig:
    data = {k.lower(): v for k, v in raw.items()}
    params = {k: v for k, v in (data.get("params") or {}).items()}
    lower_params = {k.lower(): v for k, v in params.items()}
    shortname = data.get("disqusshortname") or _lookup(data, "services", "disqus", "shortname")
    if shortname and "disqusshortname" not in lower_params:  # the theme reads it from params, opt-in comments
        params["disqusShortname"] = str(shortname)
    values: dict[str, Any] = {"hugo": True, "source_file": path.relative_to(root).as_posix(), "params": params}
    if "baseurl" in data:
        values["base_url"] = str(data["baseurl"]).rstrip("/") + "/"
    if "title" in data:
        values["title"] = str(data["title"])
    pager = _lookup(data, "pagination", "pagersize") or data.get("paginate")
    if pager:
        values["paginate"] = int(pager)
    if data.get("summarylength") is not None:
        values["summary_words"] = int(data["summarylength"])
    for key in ("Drafts", "Future", "Expired"):
        values[f"build_{key.lower()}"] = _flag(data, f"build{key}", path)
    for key, name in (("uglyURLs", "ugly_urls"), ("canonifyURLs", "canonify_urls"), ("relativeURLs", "relative_urls")):
        values[name] = _flag(data, key, path)
    values["publish_dir"] = str(data.get("publishdir") or "public")
    for key, name in (("pluralizeListTitles", "pluralize_list_titles"), ("capitalizeListTitles", "capitalize_list_titles")):
        values[name] = key.lower() not in data or _flag(data, key, path)  # both on unless set
    if data.get("disablepathtolower"):
        values["lower_paths"] = False
    ignore = data.get("ignorefiles") or []
    values["ignore_files"] = tuple(str(pattern) for pattern in (ignore if isinstance(ignore, list) else [ignore]))
    for pattern in values["ignore_files"]:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SiteError(path.name, f"ignoreFiles pattern `{pattern}` is not a regular expression: {exc}",
                            "fix the pattern") from None
    if "languagecode" in data:
        values["language"] = str(data["languagecode"]).split("-")[0]
    elif "defaultcontentlanguage" in data:
        values["language"] = str(data["defaultcontentlanguage"])
    if "timezone" in data:
        values["timezone"] = str(data["timezone"])
    declared = data.get("taxonomies", data.get("indexes"))  # `indexes`: their older name, which Hugo still reads
    if isinstance(declared, dict):  # else Hugo's default
        values["taxonomies"] = tuple(str(v) for v in declared.values())
    else:
        values["taxonomies"] = ("tags", "categories")
    disabled = _disabled_kinds(data.get("disablekinds"))
    if {"taxonomy", "term"} <= disabled:  # no term pages and no lists of them: as if none were declared
        values["taxonomies"] = ()
        disabled -= {"taxonomy", "term"}
    values["kinds_off"] = tuple(sorted(disabled & LEFT_OUT_KINDS))
    if disabled - LEFT_OUT_KINDS:
        report.warn(SiteError(path.name, f"disableKinds: bitopia still writes the pages of kind "
                              f"{', '.join(sorted(disabled - LEFT_OUT_KINDS))}; it leaves out those of kind "
                              f"{', '.join(sorted(LEFT_OUT_KINDS))}, and term pages with taxonomy pages only",
                              "remove the key, or delete the pages you do not want after the build"))
    base_name = _lookup(data, "outputformats", "rss", "basename")
    if base_name is not None:
        if not isinstance(base_name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", base_name):
            raise SiteError(path.name, f"outputFormats.RSS.baseName must be a file name, not {base_name!r}",
                            'write `baseName = "feed"` (for feed.xml), or remove it (index.xml)')
        values["feed_name"] = f"{base_name}.xml"
    values["permalinks"] = _hugo_permalinks(data.get("permalinks"))
    values["related"] = settings_from_hugo(data.get("related"), path)
    if isinstance(lower_params.get("search"), bool):  # not a Hugo setting: a site's params say it
        values["search"] = lower_params["search"]
    if isinstance(lower_params.get("responsiveimages"), (bool, dict)):  # not a Hugo setting (`images` is a theme's)
        values["images"] = image_settings(lower_params["responsiveimages"], path.name)
    values["raw_html"] = _lookup(data, "markup", "goldmark", "renderer", "unsafe") is True
    # Without mainSections, Hugo lists the section with the most pages: () says so (index.py)
    values["main_sections"] = tuple(str(s) for s in lower_params.get("mainsections") or ())
    meta = {k.lower(): v for k, v in (lower_params.get("meta") or {}).items()}
    author = meta.get("author") or lower_params.get("author") or data.get("author") or ""
    values["author"] = author if isinstance(author, str) else str(author.get("name", ""))
    values["description"] = str(meta.get("description") or lower_params.get("description") or "")
    values["menus"] = _checked_menus(data.get("menu") or data.get("menus") or {}, path)
    if "social" in data:
        params.setdefault("social", data["social"])
    if "copyright" in data:
        values["copyright"] = str(data["copyright"])
    theme = data.get("theme")
    if isinstance(theme, str) and (root / "themes" / theme / "theme.yaml").is_file():
        values["theme"] = theme  # a bitopia theme the site holds: used as a site.yaml's `theme:` is
    elif theme:
        report.warn(SiteError(path.name, f"theme `{theme}` is a Hugo theme, which bitopia cannot run; "
                              "building with the default theme `bitopia`",
                              "set `theme:` in a site.yaml to use another bitopia theme"))
    if (root / "layouts").is_dir():
        report.warn(SiteError("layouts/", "Hugo layouts are Go templates and are ignored",
                              "put Jinja2 overrides in templates/"))
    return _checked(SiteConfig(root=root, **values), path)


GO_BOOLS = {**dict.fromkeys(("1", "t", "T", "true", "True", "TRUE"), True),
            **dict.fromkeys(("0", "f", "F", "false", "False", "FALSE"), False)}  # Go's strconv.ParseBool


def _flag(data: dict[str, Any], key: str, path: Path) -> bool:
    """A true-or-false setting of a Hugo config (False when it is not set), cast as Hugo casts it:
    a number is true unless 0; text as Go's ParseBool reads it ("true", "1", "f"…), else an error."""
    value = data.get(key.lower(), False)
    if isinstance(value, (bool, int, float)):
        return bool(value)
    if str(value) in GO_BOOLS:
        return GO_BOOLS[str(value)]
    raise SiteError(path.name, f"{key} must be true or false, not {value!r}", f"write `{key} = true`")


HUGO_KINDS = {"home", "page", "section", "taxonomy", "term", "rss", "sitemap", "robotstxt", "404"}
# The kinds whose pages a Hugo config's disableKinds leaves out (taxonomy: the page listing a taxonomy's terms).
# Not home, page, rss or term alone: the theme links to those pages from every page.
LEFT_OUT_KINDS = frozenset({"section", "sitemap", "robotstxt", "404", "taxonomy"})


def _disabled_kinds(given: Any) -> set[str]:
    """The page kinds a Hugo config's disableKinds names, lower-cased; Hugo reads them in any case
    and passes over a name that is no kind, and so do we."""
    kinds = {str(kind).lower() for kind in (given if isinstance(given, list) else [given] if given else [])}
    return kinds & HUGO_KINDS


def default_output(root: Path) -> Path:
    """The output folder of a build given none: the config's (`publishDir` in a Hugo site, which
    Hugo takes to be `public/` when it is not set), else `output/`. A config that does not load
    gives `output/`: the build then reports its problem."""
    try:
        return root / load_config(root, Report()).publish_dir
    except SiteError:
        return root / "output"


def _lookup(data: Any, *keys: str) -> Any:
    """A nested setting of a Hugo config, its keys in any case (None when it is not set)."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = next((v for k, v in data.items() if str(k).lower() == key), None)
    return data


def _hugo_permalinks(given: Any) -> dict[str, str]:
    """The permalink patterns of a Hugo config, by section: `posts = "/:year/:slug/"`, or in the
    newer form under `page:` (the patterns for `section:`, `term:` and `taxonomy:` pages are
    not used: those pages keep their paths). No default: a page's URL is then its content path."""
    if not isinstance(given, dict):
        return {}
    patterns = {str(k): v for k, v in given.items() if not isinstance(v, dict)}
    page = next((v for k, v in given.items() if str(k).lower() == "page" and isinstance(v, dict)), {})
    patterns.update({str(k): v for k, v in page.items()})
    return {section: _hugo_pattern(str(pattern)) for section, pattern in patterns.items()}


def _hugo_pattern(pattern: str) -> str:
    """Hugo permalink patterns use the same :tokens; make sure they start and end with '/'."""
    pattern = pattern if pattern.startswith("/") else "/" + pattern
    return pattern if pattern.endswith("/") or pattern.endswith(".html") else pattern + "/"


def _checked_menus(menus: Any, path: Path) -> dict[str, list[dict[str, Any]]]:
    """Menus are lists of mappings with a name and a url."""
    if not isinstance(menus, dict):
        raise SiteError(path.name, "menus must map a menu's name to a list of items",
                        "write `menus:` then `main:` then `- {name: Home, url: /}` lines")
    for name, items in menus.items():
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise SiteError(path.name, f"menu `{name}` must be a list of items with a name and a url",
                            "write each item as `- {name: Home, url: /}`")
    return {str(name): [dict(item) for item in items] for name, items in menus.items()}


def _checked(config: SiteConfig, path: Path) -> SiteConfig:
    try:
        config.tz
    except (ZoneInfoNotFoundError, ValueError):
        raise SiteError(path.name, f"unknown timezone `{config.timezone}`",
                        "use a name like UTC or Europe/Helsinki") from None
    if not isinstance(config.paginate, int) or config.paginate < 1:
        raise SiteError(path.name, f"paginate must be a whole number of at least 1, not {config.paginate!r}",
                        "write e.g. `paginate: 10`")
    if "://" not in config.base_url:
        raise SiteError(path.name, f"base_url `{config.base_url}` is not an absolute URL",
                        "write e.g. `base_url: https://example.org/`")
    if config.markdown_engine not in markdown_it_engine.ENGINES:
        raise SiteError(path.name, f"unknown markdown_engine `{config.markdown_engine}`",
                        f"write one of: {', '.join(markdown_it_engine.ENGINES)}")
    if config.markdown_engine == "markdown-it-py" and not markdown_it_engine.available():
        raise SiteError(path.name, "markdown_engine: markdown-it-py, but the markdown-it-py package is not installed",
                        markdown_it_engine.PACKAGE_HINT)
    return config
