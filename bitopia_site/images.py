"""Responsive images: every raster image of the site (static files and the bundles' resources) gets
its width and height, and WebP copies at the widths the site asks for, never wider than the
original. They are made with Pillow, in parallel, once: kept in the cache by the image's content
hash. Pages name them in a `srcset`; the original stays the `src`, for whatever reads no srcset.

A copy lies beside its original (`img/a.jpg` -> `img/a.<hash>.480w.webp`), so a relative `src` in
a leaf bundle finds its copies the same way.
"""

from __future__ import annotations

import hashlib
import html
import math
import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote, unquote

from markupsafe import Markup

from bitopia_site import urls
from bitopia_site.errors import SiteError
from bitopia_site.model import Document

RASTER = (".jpg", ".jpeg", ".png", ".webp")  # a GIF is most often an animation: left as it is
FORMAT = "1"  # how copies are made: a new value makes every copy again
SMALLEST = 100  # an image narrower than this (an icon, a spacer) gets no copy
EARLY = 600  # an image this close to the top of a page's text may be on the first screen: not lazy


@dataclass(frozen=True, slots=True)
class ImageSettings:
    """site.yaml `images:` (false turns it off), or a Hugo config's `params.responsiveImages`."""

    enabled: bool = True
    widths: tuple[int, ...] = (480, 800, 1200, 1600)
    quality: int = 80
    max_pixels: int = 40_000_000  # larger images get their size in pages, and no copies
    sizes: str = ""  # the `sizes` of images in posts; "" takes the theme's `image_sizes` param


@dataclass(frozen=True, slots=True)
class Meta:
    """What one image (by content hash) is: its size as shown (EXIF rotation applied), the widths of
    its copies, and why it has none, when it has a problem."""

    width: int
    height: int
    widths: tuple[int, ...] = ()
    problem: str = ""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """One image of the site: its size, and its copies as (width, file name beside it)."""

    width: int
    height: int
    variants: tuple[tuple[int, str], ...] = ()


@dataclass
class ImageSet:
    """The site's images by output path, the copies to publish (output path -> file), and the
    problems met (output path -> what is wrong)."""

    infos: dict[str, ImageInfo] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    base_path: str = "/"
    sizes: str = "100vw"
    key: str = ""
    enabled: bool = False
    _said: dict[tuple[Any, ...], Markup] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:  # kept in the build's record: without what templates were told
        return {**self.__dict__, "_said": {}}

    def find(self, src: str, page_url: str = "/") -> ImageInfo | None:
        """The image `src` points at (as written in a page at `page_url`: root-relative or
        relative), or None when it is not one of the site's."""
        rel = site_path(src, page_url, self.base_path)
        return self.infos.get(rel) if rel else None

    def _size_and_set(self, info: ImageInfo, src: str, sizes: str, dimensions: bool = True) -> list[str]:
        """width and height (with `dimensions`) and, with copies, srcset and sizes: each copy named
        as `src` is, below the base path when `src` is root-relative."""
        parts = [f'width="{info.width}"', f'height="{info.height}"'] if dimensions else []
        if info.variants:
            folder = html.escape(_folder_of(urls.join(self.base_path, src) if src.startswith("/") else src))
            candidates = ", ".join(f"{folder}{quote(name)} {width}w" for width, name in info.variants)
            parts += [f'srcset="{candidates}"', f'sizes="{html.escape(sizes)}"']
        return parts

    def attributes(self, src: str, sizes: str = "", lazy: bool = True, page_url: str = "/",
                   dimensions: bool = True) -> Markup:
        """The attributes an `<img src="{url_for(src)}">` gains (width, height, srcset, sizes,
        loading, decoding), for templates; only the last two for an image the site does not have.
        Without `dimensions`, no width and height (a thumbnail that has its own). The same image
        is shown on many pages (the sidebar's recent posts): each answer is kept."""
        key = (src, sizes, lazy, page_url, dimensions)
        said = self._said.get(key)
        if said is None:
            said = self._said[key] = self._attributes(src, sizes, lazy, page_url, dimensions)
        return said

    def _attributes(self, src: str, sizes: str, lazy: bool, page_url: str, dimensions: bool) -> Markup:
        found = self.find(src, page_url) if self.enabled else None
        parts = [] if found is None else self._size_and_set(found, src, sizes or self.sizes, dimensions)
        if lazy:
            parts.append('loading="lazy"')
        parts.append('decoding="async"')
        return Markup(" ".join(parts))

    def rewrite(self, text: str, page_url: str, eager_first: bool) -> str:
        """A document's HTML with each `<img>` of a site image given its size and copies (attributes
        the author wrote are kept), `loading="lazy"` but for a first image near the top when
        `eager_first`, and `decoding="async"`; other images are left as they are written."""
        seen = 0

        def one(match: re.Match[str]) -> str:
            nonlocal seen
            seen += 1
            tag, attrs = match.group(0), _attributes(match.group(1))
            src = html.unescape(attrs.get("src", ""))
            found = self.find(src, page_url) if src else None
            if found is None:  # another host's image, or a file the site does not have: as written
                return tag
            added = []
            if "srcset" not in attrs:
                added += self._size_and_set(found, src, self.sizes, "width" not in attrs and "height" not in attrs)
            if "loading" not in attrs and not (eager_first and seen == 1 and match.start() < EARLY):
                added.append('loading="lazy"')
            if "decoding" not in attrs:
                added.append('decoding="async"')
            if not added:
                return tag
            end = len(tag) - (2 if tag.endswith("/>") else 1)
            return f"{tag[:end].rstrip()} {' '.join(added)}{tag[end:] if tag[end:] == '>' else ' />'}"

        return _IMG.sub(one, text)


_IMG = re.compile(r"<img\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")


def _attributes(text: str) -> dict[str, str]:
    found = {}
    for name, value in _ATTR.findall(text):
        found.setdefault(name.lower(), value[1:-1] if value[:1] in "\"'" else value)
    return found


def _folder_of(url: str) -> str:
    """The part of `url` up to its last slash (query and fragment left out)."""
    url = url.split("#", 1)[0].split("?", 1)[0]
    return url[: url.rfind("/") + 1]


def site_path(src: str, page_url: str = "/", base_path: str = "/") -> str | None:
    """The output path an image `src` names (`/img/a.jpg` -> `img/a.jpg`; `a.jpg` on the page
    `/posts/b/` -> `posts/b/a.jpg`), or None for another host's or a data URL."""
    src = src.strip()
    if not src or "://" in src or src.startswith(("//", "data:")):
        return None
    src = unquote(src.split("#", 1)[0].split("?", 1)[0])
    if src.startswith("/"):
        if base_path != "/" and src.startswith(base_path):
            src = src[len(base_path) - 1:]
        path = src
    else:  # relative to the page's folder: the page itself for `/posts/b/`, its parent for `/posts/b.html`
        path = (page_url if page_url.endswith("/") else _folder_of(page_url)) + src
    path = os.path.normpath("/" + path.lstrip("/")).lstrip("/")
    return path if path and not path.startswith("..") else None


_DEFAULT = ImageSettings()


def settings_from(value: Any, source: str) -> ImageSettings:
    """`images:` of site.yaml or `params.responsiveImages` of a Hugo config: true, false, or a mapping of
    widths, quality, max_pixels and sizes."""
    hint = "write `images: false`, or `images: {widths: [480, 800, 1200], quality: 80}`"
    if value is None or value is True:
        return ImageSettings()
    if value is False:
        return ImageSettings(enabled=False)
    if not isinstance(value, dict):
        raise SiteError(source, f"images must be true, false or a mapping, not {value!r}", hint)
    known = {"widths", "quality", "max_pixels", "sizes"}
    unknown = sorted(set(map(str, value)) - known)
    if unknown:
        raise SiteError(source, f"images: unknown setting {unknown[0]!r}", f"known: {', '.join(sorted(known))}")
    widths = value.get("widths", _DEFAULT.widths)
    if (not isinstance(widths, (list, tuple)) or not widths
            or not all(isinstance(w, int) and not isinstance(w, bool) and 16 <= w <= 8192 for w in widths)):
        raise SiteError(source, f"images.widths must be a list of widths in pixels (16 to 8192), not {widths!r}", hint)
    quality = value.get("quality", _DEFAULT.quality)
    if not isinstance(quality, int) or isinstance(quality, bool) or not 1 <= quality <= 100:
        raise SiteError(source, f"images.quality must be a number from 1 to 100, not {quality!r}", hint)
    max_pixels = value.get("max_pixels", _DEFAULT.max_pixels)
    if not isinstance(max_pixels, int) or isinstance(max_pixels, bool) or max_pixels < 1:
        raise SiteError(source, f"images.max_pixels must be a positive number, not {max_pixels!r}", hint)
    sizes = value.get("sizes", "")
    if not isinstance(sizes, str):
        raise SiteError(source, f"images.sizes must be text, like \"(min-width: 40rem) 36rem, 100vw\", not {sizes!r}",
                        hint)
    return ImageSettings(True, tuple(sorted(set(widths))), quality, max_pixels, sizes)


def image_set(static: Mapping[str, Path], settings: ImageSettings, home: Path | None,
              cache: Mapping[str, Any], jobs: int, base_path: str = "/", sizes: str = "100vw",
              root: Path | None = None) -> tuple[ImageSet, dict[str, Any]]:
    """The site's images among its `static` files (output path -> file) and their copies, made in
    `home` where it does not hold them yet; `cache` is what the last call (or `measure_ahead`)
    returned: what each image is, by content hash, and each file's hash by its size and time stamp.
    Returns the set and what to keep for the next call. Files in `home` itself (copies a build
    listed) are not images of the site. A problem names the file below `root` (the site's folder)."""
    result = ImageSet(base_path=base_path, sizes=settings.sizes or sizes, enabled=settings.enabled)
    if not settings.enabled:
        return result, {}
    known, stamps = _known(cache)
    digests, stamps, unread = _digests(static, home, stamps)
    for rel, error in unread.items():
        result.problems[rel] = f"{_shown(static[rel], rel, root)} cannot be read ({error})"
    known.update(_measured(static, digests, known, settings, home is not None))
    copies = sorted({digest for digest in digests.values()
                     if known[digest].widths and not _copies_there(known[digest], digest, home)})
    if copies:
        assert home is not None
        home.mkdir(parents=True, exist_ok=True)
        path_of = {digest: static[rel] for rel, digest in digests.items()}
        with ThreadPoolExecutor(max(1, jobs)) as pool:  # Pillow lets go of the GIL while it decodes and encodes
            made = pool.map(lambda digest: _make_copies(path_of[digest], digest, known[digest], settings, home),
                            copies)
            known.update(zip(copies, made))
    hasher = hashlib.blake2b(f"{FORMAT}\0{settings!r}".encode(), digest_size=16)
    for rel in sorted(digests):
        digest = digests[rel]
        meta = known[digest]
        hasher.update(f"\0{rel}\0{digest}\0{meta!r}".encode("utf-8", "surrogatepass"))
        if meta.problem:
            result.problems[rel] = f"{_shown(static[rel], rel, root)} {meta.problem}"
            if not meta.width:
                continue
        folder, name = rel.rpartition("/")[::2]
        stem = name.rpartition(".")[0]
        variants = []
        for width in meta.widths:
            copy = f"{stem}.{digest[:10]}.{width}w.webp"
            target = f"{folder}/{copy}" if folder else copy
            if target in static:  # the site has a file of that name: never replace it
                continue
            variants.append((width, copy))
            assert home is not None
            result.files[target] = home / _copy_name(digest, width)
        result.infos[rel] = ImageInfo(meta.width, meta.height, tuple(variants))
    result.key = hasher.hexdigest()
    used = set(digests.values())
    if home is not None:
        _remove_unused(home, used)
    return result, {"meta": {d: m for d, m in known.items() if d in used}, "stamps": stamps}


def measure_ahead(static: Mapping[str, Path], settings: ImageSettings, cache: Mapping[str, Any],
                  can_copy: bool) -> dict[str, Any]:
    """The slow part of `image_set` done ahead (on a thread, while posts are parsed): each image's
    hash and what it is, in the form of `image_set`'s cache. Copies are not made here."""
    if not settings.enabled:
        return dict(cache)
    known, stamps = _known(cache)
    digests, stamps, _ = _digests(static, None, stamps)
    known.update(_measured(static, digests, known, settings, can_copy))
    return {"meta": known, "stamps": stamps}


def _known(cache: Mapping[str, Any]) -> tuple[dict[str, Meta], dict[str, tuple[int, int, int, int, str]]]:
    meta = cache.get("meta", {})
    stamps = cache.get("stamps", {})
    return ({k: v for k, v in meta.items() if isinstance(v, Meta)} if isinstance(meta, dict) else {},
            dict(stamps) if isinstance(stamps, dict) else {})


def _digests(static: Mapping[str, Path], home: Path | None, stamps: Mapping[str, tuple[int, int, int, int, str]],
             ) -> tuple[dict[str, str], dict[str, tuple[int, int, int, int, str]], dict[str, str]]:
    """The content hash of each raster image of `static` (by output path; read only when its size,
    time stamps or inode are not the ones `stamps` knows), the stamps of now, and the files that
    could not be read."""
    home_text = os.fspath(home) if home is not None else None
    digests: dict[str, str] = {}
    now: dict[str, tuple[int, int, int, int, str]] = {}
    unread: dict[str, str] = {}
    for rel, path in static.items():
        if not rel.lower().endswith(RASTER) or (home_text and os.path.dirname(os.fspath(path)) == home_text):
            continue
        try:
            info = os.stat(path)
            now_stamp = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)  # ctime: `cp -p` is seen
            stamp = stamps.get(os.fspath(path))
            if stamp is not None and tuple(stamp[:4]) == now_stamp:
                digest = stamp[4]
            else:
                with open(path, "rb") as handle:
                    digest = hashlib.blake2b(handle.read(), digest_size=16).hexdigest()
        except OSError as exc:
            unread[rel] = exc.strerror or str(exc)
            continue
        digests[rel] = digest
        now[os.fspath(path)] = (*now_stamp, digest)
    return digests, now, unread


def _measured(static: Mapping[str, Path], digests: Mapping[str, str], known: Mapping[str, Meta],
              settings: ImageSettings, can_copy: bool) -> dict[str, Meta]:
    """What each image not `known` yet is (quick: the first bytes of each)."""
    todo = {digest: static[rel] for rel, digest in sorted(digests.items()) if digest not in known}
    return {digest: _measure(path, Path(path).suffix.lower() == ".webp", settings, can_copy)
            for digest, path in sorted(todo.items())}


def _shown(path: Path, rel: str, root: Path | None) -> str:
    """How a problem names an image: its path in the site (`static/img/a.jpg`), else its output path."""
    if root is not None:
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            pass
    return rel


def _copy_name(digest: str, width: int) -> str:
    return f"{digest}-{width}.webp"


def _copies_there(meta: Meta, digest: str, home: Path | None) -> bool:
    return not meta.widths or (home is not None and all((home / _copy_name(digest, w)).is_file() for w in meta.widths))


def _measure(path: Path, is_webp: bool, settings: ImageSettings, can_copy: bool) -> Meta:
    """Read one image's size (as shown: EXIF rotation applied) and choose the widths of its copies;
    a problem is told, never raised."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if image.getexif().get(0x0112) in (5, 6, 7, 8):  # turned a quarter: shown the other way round
                    width, height = height, width
                if width * height > settings.max_pixels:
                    return Meta(width, height, (), f"is too large to make smaller copies of ({width}×{height} "
                                f"pixels, more than images.max_pixels, {settings.max_pixels})")
                if getattr(image, "is_animated", False) or not can_copy:
                    return Meta(width, height)
    except UnidentifiedImageError:
        return Meta(0, 0, (), "cannot be read as an image (not a JPEG, PNG or WebP file, or a damaged one)")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return Meta(0, 0, (), _unreadable(exc, path))
    widths = [w for w in settings.widths if w < width]
    if width <= max(settings.widths) and width >= SMALLEST and not is_webp:
        widths.append(width)  # and the original's own size in WebP, most often fewer bytes
    return Meta(width, height, tuple(widths))


def _make_copies(path: Path, digest: str, meta: Meta, settings: ImageSettings, home: Path) -> Meta:
    """Write an image's copies at `meta.widths` into `home`; `meta` as it is then, or with the problem met."""
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                scale = max(meta.widths) / meta.width
                image.draft("RGB", (math.ceil(image.size[0] * scale), math.ceil(image.size[1] * scale)))  # a JPEG
                # decodes at the size needed, far faster
                shown = ImageOps.exif_transpose(image)
                shown = shown.convert("RGBA" if _has_alpha(shown) else "RGB")
                for target in sorted(meta.widths, reverse=True):
                    size = (target, max(1, round(meta.height * target / meta.width)))
                    copy = shown if shown.size == size else shown.resize(size, Image.Resampling.LANCZOS,
                                                                           reducing_gap=3.0)
                    scratch = home / f".{_copy_name(digest, target)}.{os.getpid()}"
                    copy.save(scratch, "WEBP", quality=settings.quality, method=2)  # 4: twice the time, 3% smaller
                    os.replace(scratch, home / _copy_name(digest, target))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return Meta(meta.width, meta.height, (), _unreadable(exc, path))
    return meta


def _unreadable(exc: Exception, path: Path) -> str:
    return f"cannot be read as an image ({str(exc).replace(os.fspath(path), 'the file')})"


def _has_alpha(image: Any) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _remove_unused(home: Path, used: set[str]) -> None:
    """Remove the copies of images the site no longer has (and scraps of interrupted ones)."""
    try:
        entries = list(os.scandir(home))
    except OSError:
        return
    for entry in entries:
        if entry.name.split("-", 1)[0] not in used or entry.name.startswith("."):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def may_hold_images(text: bytearray | str) -> bool:
    """Whether HTML (a document's Body, UTF-8, or text) may hold an `<img>`: a look before any parsing."""
    if isinstance(text, bytearray):
        return bytearray.find(text, b"<img") >= 0 or bytearray.find(text, b"<IMG") >= 0
    return "<img" in text or "<IMG" in text


def images_of(doc: Document, base_path: str = "/") -> set[str]:
    """The output paths of the images a document shows: its featured image and those in its text."""
    found = {doc.featured.file} if doc.featured is not None and doc.featured.file else set()
    text = doc.html
    if may_hold_images(text):
        for match in _IMG.finditer(str(text)):
            rel = site_path(html.unescape(_attributes(match.group(1)).get("src", "")), doc.url, base_path)
            if rel:
                found.add(rel)
    return found


def problems_in(documents: Iterable[Document], images: ImageSet) -> list[SiteError]:
    """A warning for each image with a problem, naming each document that shows it."""
    if not images.problems:
        return []
    return [SiteError(doc.source, f"image {images.problems[rel]}",
                      "replace it with a JPEG, PNG or WebP image that opens, or make it smaller")
            for doc in documents for rel in sorted(images_of(doc, images.base_path)) if rel in images.problems]
