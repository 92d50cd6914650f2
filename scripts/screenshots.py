"""Screenshots of the default theme: home, a post and a tag page at 1280 px and 390 px wide.

    python scripts/screenshots.py [--site DIR] [--out FOLDER] [--dark] [--full-page] [--all]

Builds the site (default: this repository's own) into a temporary folder, serves it on
127.0.0.1 and drives Debian's chromium with Playwright. The PNGs go to FOLDER (default
./screenshots/, which .gitignore lists; never commit them). Requests to any other
host are blocked and listed, so a screenshot never depends on the network.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bitopia_site.build import BuildOptions, build  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
WIDTHS = {"desktop": (1280, 900), "mobile": (390, 844)}
SEED_POST = "/2014/08/06/the-live-deployment-stories-from-bitopia/"
FIXED_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve `folder` on 127.0.0.1 from a thread; returns the server and its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def pick_pages(out: Path, every_type: bool = False) -> dict[str, str]:
    """home, the seed post (or the first post found) and the biggest tag page of the built site;
    with `every_type` also a page, the tags, the archives and the 404 page."""
    post = SEED_POST if (out / SEED_POST.strip("/") / "index.html").is_file() else None
    if post is None:
        candidates = sorted(p for p in out.glob("[12][0-9][0-9][0-9]/**/index.html"))
        post = "/" + candidates[0].parent.relative_to(out).as_posix() + "/" if candidates else "/"
    tags = sorted((out / "tags").glob("*/index.html"), key=lambda p: -p.stat().st_size)
    tag = "/tags/" + tags[0].parent.name + "/" if tags else "/tags/"
    pages = {"home": "/", "post": post, "tag": tag}
    if every_type:
        standalone = next((f"/{p.parent.name}/" for p in sorted(out.glob("*/index.html"))
                           if p.parent.name in ("about", "now")), "/")
        pages.update({"page": standalone, "terms": "/tags/", "archive": "/archives/", "404": "/404.html"})
    return pages


# Lazy images load only when scrolled near; load them all so a full-page shot shows them.
LOAD_ALL_IMAGES = """() => Promise.all([...document.images].map(img => {
    img.loading = 'eager';
    return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
}))"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO, help="the site folder to build (default: this repo)")
    parser.add_argument("--out", type=Path, default=REPO / "screenshots", help="where the PNGs go")
    parser.add_argument("--dark", action="store_true", help="also take dark-mode screenshots")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not the first screen")
    parser.add_argument("--all", action="store_true", help="also a page, the tags, the archives and the 404 page")
    parser.add_argument("--path", action="append", default=[], help="also this URL path (repeatable)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        build(args.site.resolve(), out, BuildOptions(now=FIXED_NOW))
        httpd, base = serve(out)
        blocked: list[str] = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                schemes = ["light", "dark"] if args.dark else ["light"]
                for scheme in schemes:
                    for size_name, (width, height) in WIDTHS.items():
                        context = browser.new_context(viewport={"width": width, "height": height},
                                                      color_scheme=scheme)  # type: ignore[arg-type]
                        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                                      else (blocked.append(route.request.url), route.abort()))
                        page = context.new_page()
                        extra = {"path-" + p.strip("/").replace("/", "-"): p for p in args.path}
                        for name, path in {**pick_pages(out, args.all), **extra}.items():
                            page.goto(base + path, wait_until="load")
                            page.evaluate(LOAD_ALL_IMAGES)
                            suffix = "" if scheme == "light" else "-dark"
                            target = args.out / f"{name}-{size_name}{suffix}.png"
                            page.screenshot(path=str(target), full_page=args.full_page)
                            print(f"{target}  ({path} at {width} px, {scheme})")
                        context.close()
                browser.close()
        finally:
            httpd.shutdown()
            httpd.server_close()
    if blocked:
        print(f"blocked {len(blocked)} requests to other hosts:", *sorted(set(blocked)), sep="\n  ")


if __name__ == "__main__":
    main()
