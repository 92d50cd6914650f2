"""`bitopia new site DIR` and `bitopia new post|page TITLE`: a site to start from, and a Markdown file
with the front matter a post needs, named as the site's posts are, at the URL its permalink pattern gives."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from bitopia_site.config import SiteConfig, load_config
from bitopia_site.content import parse
from bitopia_site.errors import Report, SiteError
from bitopia_site.model import Source
from bitopia_site.site_folder import holds_site
from bitopia_site.sources import MARKDOWN_SUFFIXES, walk
from bitopia_site.stages import content_settings
from bitopia_site.urls import urlize

KINDS = {"post": "posts", "page": "pages"}  # kind -> folder below content/, where a site has none of its own
_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}[-_]")  # a file name that starts with its post's date


@dataclass(frozen=True, slots=True)
class Naming:
    """How a site names its posts: the folder below content/, a date prefix or not, the file's ending,
    and whether each post is a leaf bundle (`slug/index.md`)."""

    folder: str = "posts"
    dated: bool = False
    suffix: str = ".md"
    bundle: bool = False

    def path(self, slug: str, date: datetime) -> str:
        """The new post's path below content/."""
        name = f"{date:%Y-%m-%d}-{slug}" if self.dated else slug
        return f"{self.folder}/{name}/index{self.suffix}" if self.bundle else f"{self.folder}/{name}{self.suffix}"


@dataclass(frozen=True, slots=True)
class NewContent:
    """A file `bitopia new` wrote, and the URL it has (below the site's base path); always a draft."""

    path: Path
    url: str


def yaml_scalar(text: str) -> str:
    """`text` as a YAML scalar: plain where that reads back the same, else double-quoted."""
    plain = text.strip() == text and text != "" and "\n" not in text and not text.startswith(("'", '"'))
    if plain:
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


def format_date(moment: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS+HH:MM`, the way the seed post writes its date."""
    stamp = moment.replace(microsecond=0).isoformat(sep=" ")
    return stamp if moment.utcoffset() is not None else stamp + "+00:00"


def front_matter(kind: str, title: str, config: SiteConfig, now: datetime, series: str | None = None) -> str:
    """The text of a new post or page: a draft dated `now`, with no `url:`, so that its permalink
    pattern places it (and moves it when its date changes)."""
    lines = ["---"]
    if config.author:
        lines.append(f"author: {yaml_scalar(config.author)}")
    lines += [f"date: {format_date(now)}", "draft: true", f"title: {yaml_scalar(title)}", f"type: {kind}"]
    if kind == "post":
        lines += ["categories: []", "tags: []"]
        if series:
            lines += ["series:", f"- {yaml_scalar(series.strip())}"]
        lines += ["featuredpath: date"]
    lines += ["---", "", "Write here. The text before `<!--more-->` is the summary.", ""]
    return "\n".join(lines)


def posts_naming(root: Path, config: SiteConfig) -> Naming:
    """How the site's posts are named: in the main section with the most posts (else, as Hugo picks
    its main section, the section with the most pages; else posts/), most of them with a date prefix
    or not, as a bundle or not, ending as most of them end."""
    content = root / "content"
    sections: dict[str, list[str]] = {}
    for rel, _ in walk(content, root):
        folder, _, rest = rel.partition("/")
        name = rest.rpartition("/")[2]
        if rest and name.endswith(MARKDOWN_SUFFIXES) and not name.startswith("_index."):
            sections.setdefault(folder, []).append(rest)
    main = [name for name in sections if name in config.main_sections] or list(sections)
    if not main:
        return Naming()
    folder = max(sorted(main), key=lambda name: len(sections[name]))
    files = sections[folder]
    stems = [Path(rest).parent.name if Path(rest).stem == "index" else Path(rest).stem for rest in files]
    suffix = Counter(Path(rest).suffix for rest in files).most_common(1)[0][0]
    bundles = sum(Path(rest).stem == "index" for rest in files)
    return Naming(folder, 2 * sum(bool(_DATED.match(stem)) for stem in stems) > len(stems), suffix,
                  2 * bundles > len(files))


def new_content(root: Path, kind: str, title: str, series: str | None = None,
                now: datetime | None = None) -> NewContent:
    """Write a new draft post (named as the site's posts are) or page (content/pages/<slug>.md); never
    overwrites a file; returns it with the URL its permalink pattern gives it."""
    if kind not in KINDS:
        raise SiteError(None, f"cannot make a `{kind}`", "make a `post` or a `page`")
    title = title.strip()
    slug = urlize(title)
    if not slug:
        raise SiteError(None, f"the title {title!r} makes an empty slug", "give a title with letters or digits")
    config = load_config(root, Report())
    moment = now or datetime.now(timezone.utc)
    try:
        moment = moment.astimezone(config.tz)
    except (KeyError, ValueError):
        moment = moment.astimezone(timezone.utc)
    text = front_matter(kind, title, config, moment, series)
    below = posts_naming(root, config).path(slug, moment) if kind == "post" else f"{KINDS[kind]}/{slug}.md"
    rel = f"content/{below}"
    url = _url_of(Source(rel, text), config)
    path = Path(root) / rel
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise SiteError(rel, "already exists; nothing was written", "choose another title, or edit that file") from None
    except OSError as exc:
        raise SiteError(rel, f"cannot be written: {exc.strerror or exc}", "check the folder's permissions") from None
    return NewContent(path, url)


def _url_of(source: Source, config: SiteConfig) -> str:
    """The URL the build gives `source`, found as the build finds it; raises its first problem."""
    parsed = parse(source, content_settings(config))
    if parsed.document is None:
        raise parsed.errors[0]
    return parsed.document.url


def new_site(folder: Path) -> Path:
    """Make a site in `folder` (made if missing): a site.yaml and an empty content/posts/; returns the
    site.yaml. Refuses a folder that holds a site already."""
    if folder.exists() and not folder.is_dir():
        raise SiteError(str(folder), "is not a folder", "name a new folder for the site")
    if folder.is_dir() and holds_site(folder):
        raise SiteError(str(folder), "holds a site already; nothing was written", "name a new folder for the site")
    name = folder.resolve().name.replace("-", " ").replace("_", " ").strip() or "My Blog"
    config = folder / "site.yaml"
    text = (f"title: {yaml_scalar(name[:1].upper() + name[1:])}\n"
            "base_url: http://localhost/  # where the site will live, e.g. https://example.org/\n"
            "author: \"\"\ntimezone: UTC  # dates written without an offset are read here\n"
            "search: true  # a search page and its index (Pagefind); false leaves them out\n")
    try:
        (folder / "content" / KINDS["post"]).mkdir(parents=True, exist_ok=True)
        with open(config, "x", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise SiteError(str(config), f"cannot be written: {exc.strerror or exc}", "check the folder's permissions") from None
    return config
