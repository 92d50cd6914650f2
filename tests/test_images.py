"""Responsive images (images.py): each of the site's images gets its width and height in pages, and
WebP copies at the site's widths, never wider than the original, named in a `srcset`; copies are
made once (kept in the cache by content hash), a copy that came with the site is never published,
and an image that cannot be read or is too large is a warning naming the post and the file."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from PIL import Image

from bitopia_site import images
from bitopia_site.build import BuildOptions, build
from bitopia_site.errors import BuildFailed

from conftest import FIXED_NOW

OPTIONS = BuildOptions(now=FIXED_NOW, jobs=1)

SITE_YAML = """title: Pictures
base_url: https://example.org{base}
theme: bitopia
{extra}
"""

POST = """---
title: A Walk
date: 2020-01-05
featured: walk.jpg
featuredpath: date
---
The first paragraph has no image.

![A second look](/img/2020/01/walk.jpg)

![Off the site](https://example.com/x.jpg)
"""

BUNDLE = """---
title: The Cat
date: 2020-02-01
---
![The cat](cat.png)
"""


def _image(path: Path, size: tuple[int, int], mode: str = "RGB", **save: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, (200, 120, 40) if mode == "RGB" else (200, 120, 40, 128)).save(path, **save)
    return path


def _site(root: Path, base: str = "/", extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.yaml").write_text(SITE_YAML.format(base=base, extra=extra), encoding="utf-8")
    (root / "content" / "posts").mkdir(parents=True)
    (root / "content" / "posts" / "2020-01-05-walk.md").write_text(POST, encoding="utf-8")
    (root / "content" / "posts" / "cat").mkdir()
    (root / "content" / "posts" / "cat" / "index.md").write_text(BUNDLE, encoding="utf-8")
    _image(root / "content" / "posts" / "cat" / "cat.png", (640, 480), "RGBA")
    _image(root / "static" / "img" / "2020" / "01" / "walk.jpg", (1000, 500), quality=90)
    return root


def _imgs(page: Path) -> list[dict[str, str]]:
    tags = re.findall(r"<img\b[^>]*>", page.read_text(encoding="utf-8"))
    return [{k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)} for tag in tags]


def _srcset(tag: dict[str, str]) -> dict[int, str]:
    return {int(w[:-1]): url for url, w in (entry.split() for entry in tag["srcset"].split(", "))}


def test_pages_name_the_copies_with_their_widths_and_the_original_stays_the_src(tmp_path: Path) -> None:
    root = _site(tmp_path / "site")
    out = tmp_path / "out"
    build(root, out, OPTIONS)
    page = out / "2020" / "01" / "05" / "walk" / "index.html"
    featured, in_text, elsewhere = _imgs(page)[:3]
    assert featured["src"] == "/img/2020/01/walk.jpg"
    assert (featured["width"], featured["height"]) == ("1000", "500")
    assert "loading" not in featured and featured["decoding"] == "async"  # at the top of the page
    copies = _srcset(featured)
    assert sorted(copies) == [480, 800, 1000]  # the site's widths below the original, and its own; never 1200
    for width, url in copies.items():
        with Image.open(out / url.lstrip("/")) as copy:
            assert copy.format == "WEBP" and copy.size == (width, width // 2)
    assert featured["sizes"]
    assert (in_text["src"], in_text["width"], in_text["height"]) == ("/img/2020/01/walk.jpg", "1000", "500")
    assert _srcset(in_text) == copies and in_text["loading"] == "lazy" and in_text["decoding"] == "async"
    assert in_text["sizes"] == "(min-width: 36rem) 32rem, 100vw"  # the theme's `image_sizes`
    assert elsewhere == {"src": "https://example.com/x.jpg", "alt": "Off the site"}  # as written
    home = [tag for tag in _imgs(out / "index.html") if tag["src"] == "/img/2020/01/walk.jpg"]
    assert home and all("srcset" in tag for tag in home)


def test_a_bundle_image_is_named_beside_the_page_and_keeps_its_transparency(tmp_path: Path) -> None:
    root = _site(tmp_path / "site")
    out = tmp_path / "out"
    build(root, out, OPTIONS)
    (cat,) = _imgs(out / "2020" / "02" / "01" / "cat" / "index.html")[:1]
    assert cat["src"] == "cat.png" and (cat["width"], cat["height"]) == ("640", "480")
    assert cat.get("loading") is None  # the page's first image, near the top, and it has no featured image
    copies = _srcset(cat)
    assert sorted(copies) == [480, 640] and all("/" not in url for url in copies.values())
    with Image.open(out / "2020" / "02" / "01" / "cat" / copies[480]) as copy:
        assert copy.mode == "RGBA" and copy.size == (480, 360)


def test_copies_are_made_once_and_a_copy_that_came_with_the_site_is_never_published(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _site(tmp_path / "site")
    digest = images.hashlib.blake2b((root / "static/img/2020/01/walk.jpg").read_bytes(), digest_size=16).hexdigest()
    planted = root / ".bitopia-cache" / "images" / f"{digest}-480.webp"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(b"<script>alert(1)</script>")  # a repository's own cache: signed by no one here
    build(root, tmp_path / "one", OPTIONS)
    name = next((tmp_path / "one" / "img" / "2020" / "01").glob("walk.*.480w.webp")).name
    with Image.open(tmp_path / "one" / "img" / "2020" / "01" / name) as copy:
        assert copy.format == "WEBP"

    def never(*args: object) -> None:
        raise AssertionError("an image was read again")

    monkeypatch.setattr(images, "_measure", never)
    monkeypatch.setattr(images, "_make_copies", never)
    build(root, tmp_path / "two", OPTIONS)  # another output folder: the pages are made again, the copies not
    assert (tmp_path / "two" / "img" / "2020" / "01" / name).read_bytes() == \
        (tmp_path / "one" / "img" / "2020" / "01" / name).read_bytes()


def test_an_image_replaced_in_place_gets_new_copies_and_sizes(tmp_path: Path) -> None:
    root = _site(tmp_path / "site")
    out = tmp_path / "out"
    build(root, out, OPTIONS)
    old = {p.name for p in (out / "img" / "2020" / "01").glob("*.webp")}
    _image(root / "static" / "img" / "2020" / "01" / "walk.jpg", (900, 300))
    build(root, out, OPTIONS)
    featured = _imgs(out / "2020" / "01" / "05" / "walk" / "index.html")[0]
    assert (featured["width"], featured["height"]) == ("900", "300") and sorted(_srcset(featured)) == [480, 800, 900]
    new = {p.name for p in (out / "img" / "2020" / "01").glob("*.webp")}
    assert new and not new & old  # the old copies are gone from the output


def test_a_broken_or_huge_image_is_a_warning_naming_the_post_and_the_file(tmp_path: Path) -> None:
    root = _site(tmp_path / "site", extra="images: {max_pixels: 400000}")
    (root / "content" / "posts" / "cat" / "cat.png").write_bytes(b"not a picture")
    summary = build(root, tmp_path / "out", OPTIONS)
    found = {(w.path, w.message) for w in summary.warnings if "image" in w.message}
    assert ("content/posts/cat/index.md", "image content/posts/cat/cat.png cannot be read as an image "
            "(not a JPEG, PNG or WebP file, or a damaged one)") in found
    huge = [m for p, m in found if p == "content/posts/2020-01-05-walk.md"]
    assert huge and all("static/img/2020/01/walk.jpg is too large" in m and "1000×500" in m for m in huge)
    featured = _imgs(tmp_path / "out" / "2020" / "01" / "05" / "walk" / "index.html")[0]
    assert featured["width"] == "1000" and "srcset" not in featured  # its size, and no copies
    with pytest.raises(BuildFailed):
        build(root, tmp_path / "strict", BuildOptions(now=FIXED_NOW, jobs=1, strict=True))


def test_a_turned_photo_has_the_size_it_is_shown_at(tmp_path: Path) -> None:
    root = _site(tmp_path / "site")
    photo = Image.new("RGB", (1000, 500), (10, 20, 30))
    exif = photo.getexif()
    exif[0x0112] = 6  # turned a quarter clockwise: shown 500 wide and 1000 high
    photo.save(root / "static" / "img" / "2020" / "01" / "walk.jpg", exif=exif)
    build(root, tmp_path / "out", OPTIONS)
    featured = _imgs(tmp_path / "out" / "2020" / "01" / "05" / "walk" / "index.html")[0]
    assert (featured["width"], featured["height"]) == ("500", "1000")
    with Image.open(tmp_path / "out" / _srcset(featured)[480].lstrip("/")) as copy:
        assert copy.size == (480, 960)


def test_under_a_base_path_every_copy_is_named_below_it(tmp_path: Path) -> None:
    root = _site(tmp_path / "site", base="/blog/")
    build(root, tmp_path / "out", OPTIONS)
    for tag in _imgs(tmp_path / "out" / "2020" / "01" / "05" / "walk" / "index.html")[:2]:
        assert tag["src"] == "/blog/img/2020/01/walk.jpg"
        assert all(url.startswith("/blog/img/2020/01/walk.") for url in _srcset(tag).values())


def test_images_false_leaves_images_as_written(tmp_path: Path) -> None:
    root = _site(tmp_path / "site", extra="images: false")
    build(root, tmp_path / "out", OPTIONS)
    assert not list((tmp_path / "out").rglob("*.webp"))
    in_text = _imgs(tmp_path / "out" / "2020" / "01" / "05" / "walk" / "index.html")[1]
    assert in_text == {"src": "/img/2020/01/walk.jpg", "alt": "A second look"}


@pytest.mark.parametrize("value, words", [
    ("maybe", "images must be true, false or a mapping"),
    ("{widths: [0, 800]}", "images.widths must be a list of widths"),
    ("{quality: 101}", "images.quality must be a number from 1 to 100"),
    ("{colour: red}", "images: unknown setting 'colour'"),
])
def test_a_wrong_images_setting_is_an_error_naming_site_yaml(tmp_path: Path, value: str, words: str) -> None:
    root = _site(tmp_path / "site", extra=f"images: {value}")
    with pytest.raises(BuildFailed) as failed:
        build(root, tmp_path / "out", OPTIONS)
    (error,) = failed.value.errors
    assert error.path == "site.yaml" and words in error.message
    assert not (tmp_path / "out").exists()


def test_rewriting_keeps_what_the_author_wrote() -> None:
    found = images.ImageSet(infos={"a.png": images.ImageInfo(100, 50, ((48, "a.x.48w.webp"),))}, enabled=True)
    text = '<p><img src="/a.png" width="10" loading="eager" srcset="/b.png 2x"><img src="/a.png" alt="x" /></p>'
    out = found.rewrite(text, "/post/", eager_first=False)
    first, second = re.findall(r"<img\b[^>]*>", out)
    assert first == '<img src="/a.png" width="10" loading="eager" srcset="/b.png 2x" decoding="async">'
    assert second == ('<img src="/a.png" alt="x" width="100" height="50" srcset="/a.x.48w.webp 48w" '
                      'sizes="100vw" loading="lazy" decoding="async" />')
    assert images.site_path("../img/a%20b.png", "/posts/x/") == "posts/img/a b.png"
    assert images.site_path("/../../etc/passwd") == "etc/passwd" and images.site_path("//evil/x.png") is None


def test_in_a_dev_server_a_new_image_in_a_post_is_sized_and_an_edited_image_rebuilds(tmp_path: Path) -> None:
    """A save that adds an image to a post's text takes the quick way and the page names its copies;
    an image replaced in place is not copied as it is: its copies and sizes change with a whole build."""
    from bitopia_site.incremental import LiveBuild

    root = _site(tmp_path / "site")
    _image(root / "static" / "img" / "2020" / "01" / "lake.png", (700, 350))
    out = tmp_path / "live"
    live = LiveBuild(root, out, BuildOptions(now=FIXED_NOW, jobs=1, in_place=True))
    live.build()
    post = root / "content" / "posts" / "2020-01-05-walk.md"
    post.write_text(POST + "\n![The lake](/img/2020/01/lake.png)\n", encoding="utf-8")
    assert live.update({"content/posts/2020-01-05-walk.md": post}) is not None  # the quick way
    lake = [tag for tag in _imgs(out / "2020" / "01" / "05" / "walk" / "index.html") if "lake" in tag["src"]]
    assert lake and lake[0]["width"] == "700" and sorted(_srcset(lake[0])) == [480, 700]
    assert (out / _srcset(lake[0])[480].lstrip("/")).is_file()
    _image(root / "static" / "img" / "2020" / "01" / "lake.png", (600, 600))
    assert live.update({"static/img/2020/01/lake.png": root / "static/img/2020/01/lake.png"}) is None
    live.build()
    lake = [tag for tag in _imgs(out / "2020" / "01" / "05" / "walk" / "index.html") if "lake" in tag["src"]]
    assert (lake[0]["width"], lake[0]["height"]) == ("600", "600")
    with Image.open(out / _srcset(lake[0])[480].lstrip("/")) as copy:
        assert copy.size == (480, 480)
    live.close()


def test_build_no_images_leaves_them_as_written_and_is_not_taken_for_an_unchanged_build(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bitopia_site.cli import main

    root = _site(tmp_path / "site")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "-s", str(root), "-o", str(out), "--no-images"])
    assert result.exit_code == 0, result.output
    assert not list(out.rglob("*.webp")) and "srcset" not in (out / "index.html").read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "-s", str(root), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert list(out.rglob("*.webp")) and "srcset" in (out / "index.html").read_text(encoding="utf-8")
