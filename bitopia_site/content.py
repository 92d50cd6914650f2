"""Source -> Document: dates, drafts, URL, slug, terms, featured image, rendered Markdown."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bitopia_site import frontmatter, markup, publication, urls
from bitopia_site import shortcode_builtins, shortcodes
from bitopia_site.body import Body
from bitopia_site.errors import SiteError
from bitopia_site.menus import menu_problem
from bitopia_site.model import Document, Featured, Source, quick_pickle

MODELLED_KEYS = {
    "author", "date", "draft", "title", "type", "url", "featured", "featuredpath", "categories", "tags",
    "slug", "aliases", "summary", "description", "lastmod", "publishdate", "expirydate", "series",
    "weight", "featuredalt", "featuredstretch", "params",
}
# Keys a theme or a migrated Hugo site may use: passed to templates as params, without a warning.
PASSED_KEYS = {
    "keywords", "layout", "menu", "toc", "images", "comments", "linktitle", "headless", "outputs",
    "markup", "iscjklanguage", "resources", "cascade", "build", "translationkey", "sitemap",
    "audio", "videos", "subtitle", "authors", "showtoc", "image", "cover",
}
HTML_SUFFIXES = (".html", ".htm")  # a Hugo site's content written in HTML: pages, not Markdown
TAXONOMY_LIKE = {"tag", "tags", "category", "categories", "series", "topic", "topics"}
DATE_HINT = "write YYYY-MM-DD or YYYY-MM-DD HH:MM:SS+HH:MM"
# Each term is a page listing its posts, each post with all its terms: N terms on one post make
# N pages of N links, so a build with thousands of terms on one post would never finish.
MAX_TERMS = 100


@dataclass(frozen=True, slots=True)
class ContentSettings:
    """What parsing needs from the site config (small, picklable, part of the cache key)."""

    timezone: str
    taxonomies: tuple[str, ...]
    permalinks: tuple[tuple[str, str], ...]
    summary_words: int
    hugo: bool = False  # a Hugo site: Hugo's URLs, and a missing title or front matter only warned about
    lower_paths: bool = True  # Hugo's URLs lower-cased (not with disablePathToLower)
    shortcodes: shortcodes.ShortcodeSet = shortcodes.NO_SHORTCODES  # the site's own; its repr is a digest
    raw_html: bool = True  # raw HTML in Markdown kept (a Hugo site: its goldmark renderer's `unsafe`)
    ugly_urls: bool = False  # a Hugo site's uglyURLs: pages and aliases at /a.html, not /a/
    engine: str = "cmark-gfm"  # the Markdown engine of a site.yaml site (markdown_it_engine.ENGINES)

    def key(self) -> str:
        return _settings_key(self)


@lru_cache(maxsize=16)
def _settings_key(settings: ContentSettings) -> str:
    """What ContentSettings.key returns, worked out once per settings (each post's digest asks)."""
    return repr(settings) + markup.SETTINGS


@quick_pickle
@dataclass(frozen=True, slots=True)
class Parsed:
    """A parse result: a document, or the errors that kept it from being one, plus warnings."""

    document: Document | None
    errors: tuple[SiteError, ...] = ()
    warnings: tuple[SiteError, ...] = ()
    # For a file with errors, what its front matter says of its publication (draft, publish date,
    # expiry date): a build that leaves it out does not judge it (publication.Visibility.judges).
    status: tuple[bool, datetime | None, datetime | None] | None = None


def parse(source: Source, settings: ContentSettings) -> Parsed:
    """Turn one source file into a Document; never raises for bad input."""
    try:
        return _parse(source, settings)
    except SiteError as err:
        return Parsed(None, (err,))
    except RecursionError:
        return Parsed(None, (SiteError(source.path, "the Markdown is nested too deeply to render",
                                       "simplify deeply nested lists or quotes"),))


def _parse(source: Source, settings: ContentSettings) -> Parsed:
    path = source.path
    meta, body, _ = frontmatter.split(source.text, path, required=not settings.hugo)
    fm_text = source.text
    keys = {k.lower(): k for k in meta}
    get = lambda key, default=None: meta.get(keys.get(key, key), default)  # noqa: E731
    errors: list[SiteError] = []
    warnings: list[SiteError] = []
    tz = ZoneInfo(settings.timezone)
    rel = PurePosixPath(path).relative_to("content")
    is_section_index = rel.stem == "_index"
    leaf_at_top = rel.stem == "index" and len(rel.parts) == 2  # content/about/index.md: a page, not a section
    section = rel.parts[0] if len(rel.parts) > 1 and not leaf_at_top else ""

    def fail(key: str, message: str, hint: str) -> None:
        errors.append(SiteError(path, message, hint, frontmatter.key_line(fm_text, key)))

    title = get("title")
    if title is None or (isinstance(title, str) and not title.strip()):
        if settings.hugo and not is_section_index:  # Hugo builds it, titled by nothing
            warnings.append(SiteError(path, "has no title", "add `title: Your title` to the front matter"))
        elif not is_section_index:
            fail("title", "has no title", "add `title: Your title` to the front matter")
        title = section.replace("-", " ").title() if is_section_index else ""
    elif isinstance(title, (dict, list)):
        fail("title", "the title must be text, not a list or mapping", "write `title: Your title`")
        title = ""
    title = " ".join(str(title).split())

    dates: dict[str, datetime | None] = {}
    for key in ("date", "lastmod", "publishdate", "expirydate"):
        try:
            dates[key] = parse_date(get(key), tz)
        except ValueError:
            fail(key, f'{key} "{get(key)}" is not a valid date', DATE_HINT)
            dates[key] = None
    published = dates["date"] or dates["publishdate"]

    draft = _draft(get("draft", False), fail)
    publication = _publication(get, keys, fail, dates["publishdate"], rel.stem == "index", tz)

    doc_type = str(get("type") or section or "page")
    if is_section_index:
        doc_type = "section"
    filename = rel.parent.name if rel.stem == "index" else rel.stem
    given_slug = str(get("slug") or "")
    slug = given_slug and urls.urlize(given_slug)
    slug = slug or urls.slug_from_filename(filename) or "untitled"

    terms: list[tuple[str, tuple[str, ...]]] = []
    for taxonomy in settings.taxonomies:
        names = _string_list(get(taxonomy), taxonomy, fail)
        if len(names) > MAX_TERMS:
            fail(taxonomy, f"has {len(names):,} {taxonomy}; a post can have at most {MAX_TERMS}",
                 f"keep the {taxonomy} that say what the post is about")
            names = ()
        for name in names:
            if not urls.urlize(name):
                fail(taxonomy, f'{taxonomy} term "{name}" has no letters or digits to make a URL from',
                     "use a term with at least one letter or digit")
                continue
            problem = _term_url_problem(taxonomy, urls.urlize(name))
            if problem:
                fail(taxonomy, f"{taxonomy} term URL {problem}",
                     "use a shorter term, and plain words for the taxonomies in site.yaml")
        if names:
            terms.append((taxonomy, names))
    for key in sorted(keys.keys() & TAXONOMY_LIKE - set(settings.taxonomies) if not settings.hugo else ()):
        fail(key, f"`{keys[key]}` is not a taxonomy of this site",
             f"the site's taxonomies are {', '.join(settings.taxonomies) or 'none'}; "
             "add it to `taxonomies:` in site.yaml, or rename the key")

    if settings.hugo and get("url") in (None, ""):
        url = _hugo_url(str(rel), fail, settings, section, published, given_slug, title)
    else:
        url = _url(get("url"), path, fail, settings, doc_type, section, published, slug, title, filename,
                   is_section_index, bool(errors))
    aliases: list[str] = []
    for alias in _string_list(get("aliases"), "aliases", fail):
        try:
            alias_url = urls.normalize_url(alias)
            aliases.append(urls.ugly(alias_url) if settings.ugly_urls else alias_url)
        except urls.UnsafeURL as exc:
            fail("aliases", f"alias {exc}", "write an alias as a path on this site, like /old/path/")

    weight = get("weight", 0)
    if isinstance(weight, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", weight):  # Hugo casts `weight: '40'`
        weight = int(weight)
    if not isinstance(weight, int) or isinstance(weight, bool):
        fail("weight", f"weight must be a whole number, not {weight!r}", "write e.g. `weight: 10`")
        weight = 0

    featured = _featured(meta, keys, published, title, fail)
    summary = get("summary")
    params = {k: v for k, v in meta.items() if k.lower() not in MODELLED_KEYS}
    for key in ("menu", "menus") if settings.hugo else ():
        problem = menu_problem(get(key))
        if problem is not None:
            fail(key, *problem)
    if isinstance(get("params"), dict):
        params.update(get("params"))
    known_keys = MODELLED_KEYS | PASSED_KEYS | set(settings.taxonomies)
    for key in sorted(k for k in meta if k.lower() not in known_keys):
        warnings.append(SiteError(path, f"unknown front-matter key `{key}`; it is passed to templates as "
                                  f"params.{key}", "move it under `params:` to silence this",
                                  frontmatter.key_line(fm_text, key)))
    if errors:
        status = (draft, dates["publishdate"] or published, dates["expirydate"])
        return Parsed(None, tuple(errors), tuple(warnings), status)

    expanded = _expand_shortcodes(source.text, body, path, title, published, params, url, settings)
    warnings += expanded.warnings
    rendered = markup.render(expanded.text, settings.summary_words, None if summary is None else str(summary),
                             expanded.fill, markdown=not path.lower().endswith(HTML_SUFFIXES),
                             raw_html=settings.raw_html, goldmark=settings.hugo, engine=settings.engine)
    description = str(get("description") or "")
    doc = Document(
        source=path, section=section, type=doc_type, title=title, date=published,
        lastmod=dates["lastmod"], expiry_date=dates["expirydate"], draft=draft, url=url, slug=slug,
        aliases=tuple(aliases), author=str(get("author") or ""), description=description,
        terms=tuple(terms), weight=weight, featured=featured, html=Body(rendered.html),
        summary=Markup(rendered.summary), summary_is_excerpt=rendered.summary_is_excerpt, toc=rendered.toc,
        word_count=rendered.word_count, reading_time=rendered.reading_time,
        is_section_index=is_section_index, params=params, digest=source_digest(source, settings),
        summary_text=Markup(rendered.summary).striptags(), **publication,
    )
    return Parsed(doc, tuple(expanded.errors), tuple(warnings))


def _expand_shortcodes(text: str, body: str, path: str, title: str, date: datetime | None, params: dict[str, Any],
                       url: str, settings: ContentSettings) -> shortcodes.Expanded:
    """The body with its Hugo shortcodes expanded (shortcodes.py); a body without `{{` as it is."""
    if "{" not in body or "{{" not in body:  # one character is found some 25 times quicker than two
        return shortcodes.Expanded(body)
    full = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    page = shortcodes.Page(path, title, date, params, url, full.count("\n", 0, len(full) - len(body)) + 1)
    return shortcode_builtins.expand_body(body, page, settings.shortcodes)


def _draft(value: Any, fail) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"):
        value = value.lower() in ("true", "yes")
    if not isinstance(value, bool):
        fail("draft", f"draft must be true or false, not {value!r}", "write `draft: true` or `draft: false`")
        return False
    return value


def _publication(get, keys: dict[str, str], fail, publish_date: datetime | None, leaf_bundle: bool,
                 tz: ZoneInfo) -> dict[str, Any]:
    """The Document fields of Hugo's publication settings: `publishDate`, `headless`, `build`, and
    the `cascade` a section hands down (see publication.py)."""
    own = {key for key in ("draft", "publishdate", "expirydate", "build") if key in keys}
    if "headless" in keys:
        own.add("build")

    def cascaded(mapping: dict[str, Any]) -> dict[str, Any]:
        given = {str(k).lower(): v for k, v in mapping.items()}
        fields: dict[str, Any] = {}
        if "draft" in given:
            fields["draft"] = _draft(given["draft"], fail)
        for key, field in (("publishdate", "publish_date"), ("expirydate", "expiry_date")):
            try:
                if (when := parse_date(given.get(key), tz)) is not None:
                    fields[field] = when
            except ValueError:
                fail("cascade", f'cascade {key} "{given[key]}" is not a valid date', DATE_HINT)
        fields.update(publication.read_build(given.get, fail, leaf_bundle=False))
        return fields

    return {"publish_date": publish_date, **publication.read_build(get, fail, leaf_bundle), "own": frozenset(own),
            "cascade": publication.read_cascades(get("cascade"), cascaded, fail)}


@lru_cache(maxsize=4096)
def _term_url_problem(taxonomy: str, slug: str) -> str:
    """Why a term's page cannot have the URL /taxonomy/slug/ ('' when it can): asked once a term,
    not once a post."""
    try:
        urls.normalize_url(f"/{taxonomy}/{slug}/")
    except urls.UnsafeURL as exc:
        return str(exc)
    return ""


def source_digest(source: Source, settings: ContentSettings) -> str:
    """What a parse depends on: the file's path and text, and the settings."""
    data = f"{source.path}\0{settings.key()}\0{source.text}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def parse_date(value: Any, tz: ZoneInfo) -> datetime | None:
    """A timezone-aware datetime from front matter; a naive one takes the site's timezone."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
        result = datetime.fromisoformat(text)
    else:
        raise ValueError(value)
    if result.tzinfo is None:
        result = result.replace(tzinfo=tz)
    return result


def _string_list(value: Any, key: str, fail) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or any(isinstance(v, (dict, list)) or v is None for v in value):
        fail(key, f"{key} must be a list of names", f"write `{key}:` followed by `- name` lines")
        return ()
    seen: dict[str, None] = {}
    for item in value:
        text = " ".join(str(item).split())
        if text:
            seen.setdefault(text, None)
    return tuple(seen)


def _url(value: Any, path: str, fail, settings: ContentSettings, doc_type: str, section: str,
         published: datetime | None, slug: str, title: str, filename: str, is_section_index: bool,
         errors_so_far: bool = False) -> str:
    if is_section_index:
        return urls.normalize_url(f"/{section}/") if section else "/"
    if value not in (None, ""):
        try:
            return urls.normalize_url(str(value))
        except urls.UnsafeURL as exc:
            fail("url", f"url {exc}", "write the URL as a path on this site, like /2014/08/06/my-post/")
            return "/"
    patterns = dict(settings.permalinks)
    kind = "page" if doc_type == "page" else "post"
    pattern = patterns.get(section) or patterns.get(doc_type) or patterns[kind]
    if ":year" in pattern or ":month" in pattern or ":day" in pattern:
        if published is None:
            if not errors_so_far:
                fail("date", "has no date, and the permalink pattern needs one", "add `date: YYYY-MM-DD` or a `url:`")
            return "/"
    try:
        return urls.expand_permalink(pattern, date=published, slug=slug, title=title, section=section,
                                     filename=filename)
    except urls.UnsafeURL as exc:
        fail("slug", f"the URL made from the permalink pattern {exc}", "set a plain `slug:` or `url:`")
        return "/"


def _hugo_url(rel: str, fail, settings: ContentSettings, section: str, published: datetime | None,
              slug: str, title: str) -> str:
    """A Hugo site's page URL: its content path, or its section's permalink pattern (urls.hugo_url)."""
    pattern = dict(settings.permalinks).get(section)
    try:
        return urls.hugo_url(rel, slug=slug, title=title, date=published, pattern=pattern, lower=settings.lower_paths,
                             ugly_urls=settings.ugly_urls)
    except urls.UnsafeURL as exc:
        fail("slug", f"the URL made from the file's path {exc}", "set a plain `slug:` or `url:`")
        return "/"


def _featured(meta: dict[str, Any], keys: dict[str, str], published: datetime | None, title: str,
              fail) -> Featured | None:
    name = meta.get(keys.get("featured", "featured"))
    if not name:
        return None
    name = str(name).strip()
    alt = str(meta.get(keys.get("featuredalt", "featuredalt")) or title)
    stretch = str(meta.get(keys.get("featuredstretch", "featuredstretch")) or "")
    if re.match(r"^https?://", name):
        return Featured(name, None, alt, stretch)
    where = str(meta.get(keys.get("featuredpath", "featuredpath")) or "").strip().strip("/")
    if name.startswith("/"):
        site_path = name.lstrip("/")
    elif where == "date":
        if published is None:
            fail("featuredpath", "`featuredpath: date` needs the post's date", "add `date:` to the front matter")
            return None
        site_path = f"img/{published.year:04d}/{published:%m}/{name}"
    elif where:
        site_path = f"img/{where}/{name}"
    else:
        site_path = f"img/{name}"
    try:
        site_path = urls.safe_file_path(site_path)
    except urls.UnsafeURL as exc:
        fail("featured", f"featured image path {exc}", "name an image inside the site, like photo.jpg")
        return None
    return Featured("/" + site_path, site_path, alt, stretch)
