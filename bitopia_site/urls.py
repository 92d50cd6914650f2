"""The one place URLs, slugs and output paths are made and checked."""

from __future__ import annotations

import re
from functools import lru_cache
import unicodedata
from datetime import datetime
from urllib.parse import quote

_KEEP = set("_.+~")
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[-_]")
_BAD_URL = re.compile(r"[\\\x00-\x1f\x7f?#]")
_CONTROL = re.compile(r"[\\\x00-\x1f\x7f]")
_CONTROL_OR_QUERY = re.compile(r"[\x00-\x1f\x7f?#]")
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")
_SLASHES = re.compile(r"/{2,}")
_FILE_SUFFIX = re.compile(r"\.(html?|xml|txt|json)$")
_PERMALINK_PART = re.compile(r":(contentbasename|year|month|day|slug|title|section|filename)")
MAX_NAME_BYTES = 255  # a file name on Linux, macOS and Windows
MAX_URL_BYTES = 2000  # kept well below PATH_MAX (4096) once the output folder is in front


class UnsafeURL(ValueError):
    """A URL that cannot be a file inside the output folder."""


@lru_cache(maxsize=65536)
def urlize(text: str) -> str:
    """Hugo's urlize: lower case, spaces to dashes, punctuation dropped (`Code & Tech` -> `code-tech`)."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", str(text)).lower():
        if char.isalnum() or char in _KEEP:
            out.append(char)
        elif char.isspace() or char in "-/":
            if out and out[-1] != "-":
                out.append("-")
    # No dot at either end: Hugo keeps them (/tags/.vimrc/), but a hidden folder is not served by
    # many web servers (nor by `bitopia serve`), and `.` or `..` would name no folder at all.
    return "".join(out).strip("-.")


def slug_from_filename(stem: str) -> str:
    """A slug from a file name: a leading YYYY-MM-DD- is dropped, the rest urlized."""
    return urlize(_DATE_PREFIX.sub("", stem))


def normalize_url(url: str) -> str:
    """Give a site URL a leading slash, and a trailing one unless it names a file."""
    url = str(url).strip()
    if "?" in url and not _CONTROL.search(url):
        query = _short(url[url.index("?"):], 40)
        raise UnsafeURL(f"`{_short(url)}` has a query string (`{query}`), which a static file path cannot hold")
    if "\\" in url and not _CONTROL_OR_QUERY.search(url):
        raise UnsafeURL(f"`{_short(url)}` has backslashes; a URL path is written with forward slashes (/)")
    if _BAD_URL.search(url):
        raise UnsafeURL(f"`{_short(url)}` has a character a file path cannot hold (a backslash, ?, #, or a "
                        "control character)")
    if _SCHEME.match(url) or url.startswith("//"):
        raise UnsafeURL(f"`{_short(url)}` names a scheme, host or drive, not a path on this site")
    url = "/" + url.lstrip("/")
    if "//" in url:
        url = _SLASHES.sub("/", url)
    if not url.endswith("/") and not names_file(url):
        url += "/"
    parts = url.strip("/").split("/")
    if any(part in ("..", ".") for part in parts):
        raise UnsafeURL(f"`{_short(url)}` climbs out of the site with `..`" if ".." in parts
                        else f"`{_short(url)}` has a `.` part, which names no folder")
    if parts[0] == ".bitopia-output":  # output_folder.MARKER: the file that marks an output folder as bitopia's
        raise UnsafeURL(f"`{_short(url)}` is where bitopia marks its output folder")
    if len(url.encode("utf-8", "surrogatepass")) > MAX_URL_BYTES or \
            any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in parts):
        raise UnsafeURL(f"`{_short(url)}` is too long for a file path (at most {MAX_NAME_BYTES} bytes between "
                        f"slashes, {MAX_URL_BYTES} in all)")
    return url


def _short(text: str, limit: int = 80) -> str:
    """A URL for an error message: control characters shown as escapes, a long one cut."""
    text = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def safe_file_path(path: str) -> str:
    """Check a file path below the site (an image, say) and return it without a leading slash."""
    if _BAD_URL.search(path) or _SCHEME.match(path):
        raise UnsafeURL(f"`{path}` has a character a file path cannot hold, or names a drive or scheme")
    parts = [p for p in path.split("/") if p]
    if not parts or any(part in ("..", ".") for part in parts):
        raise UnsafeURL(f"`{path}` climbs out of the site with `..`")
    return "/".join(parts)


def names_file(url: str) -> bool:
    """True for a URL that names a file (…/x.html, …/feed.xml), not a folder."""
    return bool(_FILE_SUFFIX.search(url))


def output_path(url: str) -> str:
    """The file (relative to the output folder) a normalized URL is served from."""
    if url.endswith("/"):
        return url.lstrip("/") + "index.html"
    return url.lstrip("/")


def expand_permalink(pattern: str, *, date: datetime | None, slug: str, title: str,
                     section: str, filename: str) -> str:
    """Fill a permalink pattern like `/:year/:month/:day/:slug/`."""
    values = {
        "year": f"{date.year:04d}" if date else "",  # %Y gives "1" for year 1, not "0001"
        "month": f"{date.month:02d}" if date else "",
        "day": f"{date.day:02d}" if date else "",
        "slug": slug,
        "title": urlize(title) if ":title" in pattern else "",  # titles are unique: urlize's cache misses
        "section": section,
        "filename": filename,
        "contentbasename": filename,
    }
    return normalize_url(_PERMALINK_PART.sub(lambda m: values[m.group(1)], pattern))


_HUGO_KEEP = set("._-@+~")
_HUGO_TOKEN = re.compile(r":(slugorcontentbasename|slugorfilename|contentbasename|filename|monthname|weekdayname|"
                         r"weekday|yearday|sections|section|year|month|day|slug|title)")


def hugo_part(text: str, lower: bool = True) -> str:
    """A path part as Hugo makes it from a file or folder name: white space to dashes (each one),
    letters, digits and `._-@+~` kept, the rest dropped; lower-cased unless disablePathToLower."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        if char.isspace():
            out.append("-")
        elif char.isalnum() or char in _HUGO_KEEP or unicodedata.category(char).startswith("M"):
            out.append(char)
    part = "".join(out)
    return part.lower() if lower else part


_HUGO_SLUG_KEEP = set("._-~@")  # and `#`, which Hugo keeps but no file path here can hold
_HUGO_SLUG_BREAK = set("/+")


def hugo_urlize(text: str) -> str:
    """Hugo's urlize, as its `:slug` and `:title` tokens use it: lower case; letters, digits and
    `._-~@` kept; a run of white space (or `/`, `+`) one dash, but none at either end or beside
    a dash; the rest dropped (`I'm here :-)` -> `im-here-`)."""
    out: list[str] = []
    pending = False
    for char in unicodedata.normalize("NFC", text).lower():
        if char.isspace() or char in _HUGO_SLUG_BREAK:
            pending = bool(out)
        elif char.isalnum() or char in _HUGO_SLUG_KEEP or unicodedata.category(char).startswith("M"):
            if pending and char != "-" and out[-1] != "-":
                out.append("-")
            pending = False
            out.append(char)
    return "".join(out)


def ugly(url: str) -> str:
    """A folder URL as Hugo's uglyURLs makes it, a file: `/posts/a/` -> `/posts/a.html` (not `/`)."""
    return url[:-1] + ".html" if url.endswith("/") and url != "/" else url


def hugo_url(rel: str, *, slug: str, title: str, date: datetime | None, pattern: str | None,
             lower: bool = True, ugly_urls: bool = False) -> str:
    """A page's URL as Hugo makes it for `content/<rel>` (no `url:` in its front matter): its
    content path (a bundle's `index.md` by its folder, a section's `_index.md` as the folder),
    `slug` in place of the last part; or the section's permalink `pattern`, with Hugo's tokens.
    With `ugly_urls`, a page's URL (not a section's) names an .html file."""
    *parents, filename = rel.split("/")
    stem = filename.rsplit(".", 1)[0]
    if stem == "_index":
        return normalize_url("/".join(["", *(hugo_part(part, lower) for part in parents), ""]))
    url = _hugo_page_url(parents, stem, slug=slug, title=title, date=date, pattern=pattern, lower=lower)
    return ugly(url) if ugly_urls else url


def _hugo_page_url(parents: list[str], stem: str, *, slug: str, title: str, date: datetime | None,
                   pattern: str | None, lower: bool) -> str:
    """`hugo_url` of a page (a content file's `parents` folders and `stem`), before uglyURLs."""
    if stem == "index" and parents:
        *parents, stem = parents
    folders = [hugo_part(part, lower) for part in parents]
    name = hugo_part(stem, lower)
    if pattern is None:
        return normalize_url("/" + "/".join([*folders, hugo_part(slug, lower) if slug else name]) + "/")
    when = date or datetime(1, 1, 1)
    values = {
        "year": str(when.year), "month": f"{when.month:02d}", "day": f"{when.day:02d}",
        "monthname": when.strftime("%B").lower() if date else "january",
        "weekday": str(when.isoweekday() % 7), "weekdayname": when.strftime("%A").lower(),
        "yearday": str(when.timetuple().tm_yday),
        "section": folders[0] if folders else "", "sections": "/".join(folders),
        "title": hugo_urlize(title), "slug": hugo_urlize(slug or title),
        "filename": name, "contentbasename": name,
        "slugorfilename": hugo_urlize(slug) if slug else name,
        "slugorcontentbasename": hugo_urlize(slug) if slug else name,
    }
    return normalize_url(_HUGO_TOKEN.sub(lambda m: values[m.group(1)], pattern))


def join(base_path: str, url: str) -> str:
    """A link below the site's base path: join('/blog/', '/tags/x/') -> '/blog/tags/x/'."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//|^#", url):
        return url
    return quote(base_path.rstrip("/") + "/" + url.lstrip("/"), safe="/:@!$&'()*+,;=-._~%")
