"""`bitopia new post|page TITLE`: write a new Markdown file with the front matter a post needs."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import yaml

from bitopia_site.config import DEFAULT_PERMALINKS, SiteConfig, load_config
from bitopia_site.errors import Report, SiteError
from bitopia_site.urls import UnsafeURL, expand_permalink, urlize

KINDS = {"post": "posts", "page": "pages"}  # kind -> folder below content/


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


def front_matter(kind: str, title: str, config: SiteConfig, now: datetime,
                 series: str | None = None) -> tuple[str, str]:
    """(slug, file text) of a new post or page: a draft dated `now`, at its permalink."""
    if kind not in KINDS:
        raise SiteError(None, f"cannot make a `{kind}`", "make a `post` or a `page`")
    title = title.strip()
    slug = urlize(title)
    if not slug:
        raise SiteError(None, f"the title {title!r} makes an empty slug", "give a title with letters or digits")
    pattern = config.permalinks.get(kind, DEFAULT_PERMALINKS[kind])
    try:
        url = expand_permalink(pattern, date=now, slug=slug, title=title, section=KINDS[kind], filename=slug)
    except UnsafeURL as exc:
        raise SiteError(config.source_file or "site.yaml", f"the permalink pattern for `{kind}` makes a bad URL: {exc}",
                        "fix `permalinks:`") from None
    lines = ["---"]
    if config.author:
        lines.append(f"author: {yaml_scalar(config.author)}")
    lines += [f"date: {format_date(now)}", "draft: true", f"title: {yaml_scalar(title)}", f"type: {kind}",
              f"url: {url}"]
    if kind == "post":
        lines += ["categories: []", "tags: []"]
        if series:
            lines += ["series:", f"- {yaml_scalar(series.strip())}"]
        lines += ["featuredpath: date"]
    lines += ["---", "", "Write here. The text before `<!--more-->` is the summary.", ""]
    return slug, "\n".join(lines)


def new_content(root: Path, kind: str, title: str, series: str | None = None, now: datetime | None = None) -> Path:
    """Write content/<posts|pages>/<slug>.md; never overwrites a file; returns its path."""
    config = load_config(root, Report())
    moment = now or datetime.now(timezone.utc)
    try:
        moment = moment.astimezone(config.tz)
    except (KeyError, ValueError):
        moment = moment.astimezone(timezone.utc)
    slug, text = front_matter(kind, title, config, moment, series)
    folder = Path(root) / "content" / KINDS[kind]
    path = folder / f"{slug}.md"
    rel = path.relative_to(root).as_posix()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise SiteError(rel, "already exists; nothing was written", "choose another title, or edit that file") from None
    except OSError as exc:
        raise SiteError(rel, f"cannot be written: {exc.strerror or exc}", "check the folder's permissions") from None
    return path
