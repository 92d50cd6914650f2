"""One page's two bodies side by side: Hugo's and bitopia's, normalised as the comparison sees them.

    python3 -m tests.hugo_oracle.compare ...                      # the tables: which class, which URL
    python3 -m tests.hugo_oracle.show BLOG URL [URL...]           # where each URL's bodies part
    python3 -m tests.hugo_oracle.show BLOG --reason 'text differs'  # every page of a class, in short

BLOG is any part of a blog's name. Hugo's side comes from its cache; bitopia builds the blog once.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import this folder as the package it is
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "tests.hugo_oracle"

from . import bitopia_side, compare, hugo_side, normalize, report  # noqa: E402


def token_lines(html: str) -> list[str]:
    """A body's normalised tokens, one a line, as a reader would recognise each."""
    return [report.show_token(token) for token in normalize.tokens(html)]


def side_by_side(hugo_html: str, our_html: str, context: int = 3) -> str:
    """Where two bodies part: a unified diff of their token lines (empty when they are equal)."""
    return "\n".join(difflib.unified_diff(token_lines(hugo_html), token_lines(our_html), "hugo", "bitopia",
                                          n=context, lineterm=""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.hugo_oracle.show", description=__doc__.split("\n")[0])
    parser.add_argument("blog", help="part of a blog's name")
    parser.add_argument("urls", nargs="*", help="page URLs, as the tables show them")
    parser.add_argument("--reason", help="show every page whose difference's reason contains this")
    parser.add_argument("-n", "--context", type=int, default=3, help="token lines of context (default 3)")
    args = parser.parse_args(argv)
    chosen = [(name, path) for name, path in compare.blogs() if args.blog in name]
    if len(chosen) != 1:
        parser.error(f"{args.blog!r} names {len(chosen)} blogs")
    name, source = chosen[0]
    hugo = hugo_side.build(name, source, hugo_side.hugo_version())
    ours = bitopia_side.build(source)
    urls = list(args.urls)
    if args.reason:
        rep = compare.compare_blog(name, source, hugo.version)
        urls += [d.url for d in rep.differences if d.what == "body" and args.reason in d.reason]
    by_url = {record["url"]: record for record in hugo.records}
    for url in urls:
        record = by_url.get(url)
        mine = ours.records.get(compare.url_file(url))
        if record is None or mine is None:
            print(f"== {url}: {'Hugo' if record is None else 'bitopia'} has no such page")
            continue
        print(f"== {url} ({record['file']})")
        print(side_by_side(record["content"], mine.get("content") or "", args.context) or "(equal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
