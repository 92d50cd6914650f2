"""Compare what bitopia builds with what Hugo builds, blog by blog, page by page.

    python3 -m tests.hugo_oracle.compare [BLOG...]     # the tables; BLOG is any part of a name
    python3 -m tests.hugo_oracle.compare --update      # also rewrite expected.json and DIFFERENCES.md

The blogs are the real ones of `<repo>/../shared/corpus` (test data: read there, never copied in).
Hugo's side is cached outside the repository (hugo_side.CACHE_DIR); bitopia is built every time.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

if __package__ in (None, ""):  # run as a script: import this folder as the package it is
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "tests.hugo_oracle"

from . import bitopia_side, hugo_side, normalize, report, site_templates  # noqa: E402

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2] / "shared" / "corpus"
EXPECTED = HERE / "expected.json"
DIFFERENCES = HERE / "DIFFERENCES.md"

LIST_KINDS = ("home", "section", "taxonomy", "term")
URL_KINDS = ("page", "home", "section", "taxonomy", "term", "paginator", "feed", "alias", "special",
             "static", "resource")
_PAGINATOR = re.compile(r"(^|/)page/\d+/index\.html$")
_PAGE_ONE = re.compile(r"(^|/)page/1/index\.html$")
_PROCESSED = re.compile(r"_hu_?[0-9a-f]{8,}")  # images Hugo resized: named by a hash of the settings
_SHORTCODE = re.compile(r"\{\{[<%]")
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "...",
                             "\u00a0": " ", "\u00ab": '"', "\u00bb": '"'})
_DASHES = re.compile(r"[\u2013\u2014]|-{2,3}")


@dataclass
class Difference:
    """One thing bitopia does not make as Hugo does, with the rule that classified it."""

    blog: str
    what: str  # a URL kind (for a missing or extra URL), or title, date, terms, body, code
    url: str
    reason: str
    detail: str = ""


@dataclass
class BlogReport:
    name: str
    figures: dict
    differences: list[Difference] = field(default_factory=list)
    error_classes: Counter = field(default_factory=Counter)
    error_examples: dict[str, str] = field(default_factory=dict)
    traceback: str = ""
    hugo_stats: dict = field(default_factory=dict)
    hugo_count: str = ""  # how Hugo's own page count is made of what it wrote
    hugo_warnings: int = 0
    seconds: dict = field(default_factory=dict)


def blogs() -> list[tuple[str, Path]]:
    """Every blog of the corpus, the real blog first; [] when the corpus is absent."""
    found = [("real-blog", CORPUS / "real-blog")] if (CORPUS / "real-blog" / "content").is_dir() else []
    hugo_blogs = CORPUS / "hugo-blogs"
    if hugo_blogs.is_dir():
        found += [(p.name, p) for p in sorted(hugo_blogs.iterdir()) if (p / "content").is_dir()]
    return found


def url_file(url: str) -> str:
    """The file a URL is served from, as Hugo and bitopia write it: `/a/b/` -> `a/b/index.html`."""
    path = unquote(urlsplit(url).path).lstrip("/")
    return path + "index.html" if path.endswith("/") or not path else path


def hugo_files(result: hugo_side.HugoResult) -> dict[str, str]:
    """Every file Hugo wrote that bitopia should write too, with its kind (images Hugo resized,
    named by a hash of its own, are left out)."""
    written = set(result.files)
    kinds: dict[str, str] = {}
    for record in result.records:
        for fmt, url in record["formats"].items():
            path = url_file(url)
            if path in written:
                kinds[path] = record["kind"] if fmt == "html" else "feed" if fmt == "rss" else f"output {fmt}"
    static, aliases = set(result.static), set(result.aliases)
    for path in result.files:
        if path in kinds or _PROCESSED.search(path):
            continue
        if path in static:
            kinds[path] = "static"
        elif path in ("404.html", "sitemap.xml", "robots.txt"):
            kinds[path] = "special"
        elif path in aliases and not _PAGE_ONE.search(path):
            kinds[path] = "alias"
        elif _PAGINATOR.search(path):  # pages 2.. of a list, and the redirect from page 1
            kinds[path] = "paginator"
        else:
            kinds[path] = "resource"
    return kinds


def hugo_count(result: hugo_side.HugoResult) -> str:
    """Hugo's "Pages" statistic, explained: each page counts once per output format it wrote (HTML,
    RSS...), and 404.html, sitemap.xml and robots.txt count too."""
    written = set(result.files)
    outputs = sum(url_file(url) in written for record in result.records for url in record["formats"].values())
    special = sum(path in written and path not in result.static for path in ("404.html", "sitemap.xml", "robots.txt"))
    stat = result.stats.get("Pages")
    how = f"{outputs} page outputs written (a page once per output format) + {special} of 404/sitemap/robots"
    return f"{stat} pages by Hugo's count = {how}" if stat == outputs + special else \
        f"{stat} pages by Hugo's count, but {how} make {outputs + special}"


def _shown(path: str) -> str:
    """A written file as the URL a reader asks for."""
    return "/" + path.removesuffix("index.html")


def bitopia_kind(path: str, result: bitopia_side.BitopiaResult) -> str:
    """The kind of a file bitopia wrote, in Hugo's words (a post is a page, a term list a taxonomy)."""
    record = result.records.get(path)
    if record is not None:
        kind = record.get("kind", "")
        return "paginator" if kind in ("home", "section", "term") and record.get("number", 1) > 1 else \
            {"post": "page", "terms": "taxonomy"}.get(kind, kind)
    if path in result.aliases:
        return "paginator" if _PAGE_ONE.search(path) else "alias"
    if path.endswith(".xml") and path != "sitemap.xml":
        return "feed"
    if path in ("404.html", "sitemap.xml", "robots.txt"):
        return "special"
    return "static" if not path.endswith(".html") else "other"


def compare_blog(name: str, source: Path, version: str, jobs: int = 2, use_cache: bool = True) -> BlogReport:
    """Build one blog with Hugo (cached) and bitopia, and compare the two page by page."""
    hugo = hugo_side.build(name, source, version, use_cache)
    ours = bitopia_side.build(source, jobs)
    expected = hugo_files(hugo)
    rep = BlogReport(name, {}, traceback=ours.traceback, hugo_stats=hugo.stats, hugo_warnings=len(hugo.warnings),
                     seconds={"hugo": hugo.seconds, "bitopia": ours.seconds})
    rep.hugo_count = hugo_count(hugo)
    for line in ours.errors:
        cls = error_class(line)
        rep.error_classes[cls] += 1
        rep.error_examples.setdefault(cls, line.removeprefix("error: "))
    missing, extra = _compare_urls(name, expected, ours, rep.differences)
    site = site_templates.find(source)
    spelled = term_spellings(hugo.records)
    counts = Counter()
    for record in hugo.records:
        path = url_file(record["formats"]["html"]) if "html" in record["formats"] else None
        if path is None or path not in expected:
            continue
        ours_record = ours.records.get(path)
        if record["kind"] == "page":
            counts["pages"] += 1
            toks = normalize.tokens(record["content"])
            counts["code_blocks"] += len(normalize.code_blocks(toks))
            if ours_record is not None:
                called = site.called_in(_read(source / "content" / record["file"]))
                _compare_page(name, record, ours_record, toks, counts, rep.differences, site, called)
            elif path in ours.files:
                rep.differences.append(Difference(name, "page", record["url"], "bitopia wrote another kind of page here",
                                                  bitopia_kind(path, ours)))
        elif record["kind"] in LIST_KINDS:
            counts["lists"] += 1
            counts["list_bodies"] += bool(record["content"].strip())
            if ours_record is not None:
                called = site.called_in(_read(source / "content" / record["file"])) if record["file"] else []
                _compare_list(name, record, ours_record, counts, rep.differences, site, called,
                              spelled.get(record["url"], set()))
    rep.figures = {
        "builds": ours.ok, "traceback": bool(ours.traceback), "errors": len(ours.errors),
        "hugo_pages_stat": hugo.stats.get("Pages", 0), "hugo_pages": counts["pages"], "hugo_lists": counts["lists"],
        "hugo_list_bodies": counts["list_bodies"], "hugo_urls": len(expected),
        "missing_total": sum(missing.values()), "missing": dict(sorted(missing.items())),
        "extra_total": sum(extra.values()), "extra": dict(sorted(extra.items())),
        **{key: counts[key] for key in ("titles_equal", "dates_equal", "lastmods_equal", "terms_equal", "bodies_equal",
                                        "code_blocks", "code_blocks_equal", "list_titles_equal", "list_bodies_equal")},
        "bodies_site_made": counts["bodies_site_made"],
    }
    return rep


def _compare_urls(name: str, expected: dict[str, str], ours: bitopia_side.BitopiaResult,
                  out: list[Difference]) -> tuple[Counter, Counter]:
    """URLs Hugo wrote that bitopia did not, and the reverse, by kind (each listed only when
    bitopia's build succeeded: a failed one writes nothing, and its errors say why)."""
    written = set(ours.files)
    missing: Counter = Counter()
    for path, kind in sorted(expected.items()):
        if path not in written:
            missing[kind] += 1
            if ours.ok:
                out.append(Difference(name, kind, _shown(path), f"missing {kind}"))
    extra: Counter = Counter()
    for path in sorted(written - expected.keys()):
        kind = bitopia_kind(path, ours)
        if kind != "static" and not _PROCESSED.search(path):
            extra[kind] += 1
            out.append(Difference(name, kind, _shown(path), f"extra {kind} (Hugo has no such URL)"))
    return missing, extra


def _read(path: Path) -> str:
    """A content file's text ('' when there is none: a list with no `_index.md`)."""
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def term_spellings(records: list[dict]) -> dict[str, set[str]]:
    """The titles Hugo may give each term page. A term written in several ways (`MongoDB`,
    `mongodb`, `is it keto`) is titled after whichever page Hugo's parallel reading meets first, so
    two runs of Hugo differ: each page's spelling of it, title-cased by Hugo, counts as Hugo's."""
    by_url: dict[str, set[str]] = defaultdict(set)
    for record in records:
        for tax, found in record.get("terms", {}).items():
            titles = record.get("spelled", {}).get(tax, [])
            if len(titles) == len(found):  # in the order the page lists them
                for term, title in zip(found, titles):
                    by_url[term["url"]].add(title)
            else:
                for term in found:
                    by_url[term["url"]].update(t for t in titles if t.casefold() == term["name"].casefold())
    return by_url


def _compare_list(name: str, hugo: dict, ours: dict, counts: Counter, out: list[Difference],
                  site: site_templates.SiteTemplates, called: list[str], spellings: set[str] = frozenset()) -> None:
    """A home, section, taxonomy or term page: its title (but the home page's: the site's, in both;
    a term's: any of `spellings`, the ways Hugo may title it) and, where its `_index.md` has any,
    its text."""
    url = hugo["url"]
    if (hugo["kind"] == "home" or _same_text(hugo["title"], ours.get("title", ""))
            or (hugo["kind"] == "term" and ours.get("title", "") in spellings)):
        counts["list_titles_equal"] += 1
    else:
        out.append(Difference(name, "title", url, title_reason(hugo["title"], ours.get("title", "")),
                              _pair(hugo["title"], ours.get("title"))))
    if hugo["content"].strip():
        theirs, toks = normalize.tokens(ours.get("content") or ""), normalize.tokens(hugo["content"])
        if theirs == toks:
            counts["list_bodies_equal"] += 1
        else:
            reason, detail = body_reason(hugo["content"], ours.get("content") or "", toks, theirs, site, called)
            out.append(Difference(name, "body", url, reason.replace("body:", "list body:", 1), detail))


def _compare_page(name: str, hugo: dict, ours: dict, toks: list, counts: Counter, out: list[Difference],
                  site: site_templates.SiteTemplates, called: list[str]) -> None:
    url = hugo["url"]
    if _same_text(hugo["title"], ours.get("title", "")):
        counts["titles_equal"] += 1
    else:
        out.append(Difference(name, "title", url, title_reason(hugo["title"], ours.get("title", "")),
                              _pair(hugo["title"], ours.get("title"))))
    for key in ("date", "lastmod"):
        reason = date_reason(hugo[key], ours.get(key) or "")
        if reason is None:
            counts[f"{key}s_equal"] += 1
        else:
            out.append(Difference(name, key, url, reason.replace("date", key, 1), _pair(hugo[key], ours.get(key))))
    reason, detail = terms_reason(hugo["terms"], ours.get("terms") or {})
    if reason is None:
        counts["terms_equal"] += 1
    else:
        out.append(Difference(name, "terms", url, reason, detail))
    body = ours.get("content") or ""
    theirs = normalize.tokens(body)
    if theirs == toks:
        counts["bodies_equal"] += 1
    else:
        reason, detail = body_reason(hugo["content"], body, toks, theirs, site, called)
        counts["bodies_site_made"] += reason == site_templates.CLASS
        out.append(Difference(name, "body", url, reason, detail))
    hugo_code, our_code = normalize.code_blocks(toks), normalize.code_blocks(theirs)
    counts["code_blocks_equal"] += sum(a == b for a, b in zip(hugo_code, our_code))


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(str(b or "").split())


def _pair(hugo: object, ours: object) -> str:
    return f"Hugo {_short(hugo)} · bitopia {_short(ours)}"


def _short(value: object, limit: int = 70) -> str:
    """A value cut short: a difference shows where it is, not the blog's text (test data only)."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def error_class(line: str) -> str:
    """An error message without its file, line and quoted specifics, so alike errors group."""
    message = line.removeprefix("error: ")
    message = re.sub(r"^[^\s:]*(?:\s[^\s:]*)*?\.(?:md|markdown|html|toml|yaml|yml|json|txt)(?::\d+)?: ", "", message)
    message = re.sub(r"^the generated [a-z]+ page \S+: ", "the generated page …: ", message)
    message = re.sub(r"`[^`]*`", "`…`", message)
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message)
    return re.sub(r"\d+", "N", message)


def title_reason(hugo: str, ours: str) -> str:
    hugo, ours = " ".join(hugo.split()), " ".join(str(ours or "").split())
    if not ours:
        return "title: empty in bitopia"
    if hugo.lower() == ours.lower():
        return "title: capitalisation"
    if html.unescape(hugo) == html.unescape(ours):
        return "title: HTML entities"
    if hugo.translate(_TYPOGRAPHY) == ours.translate(_TYPOGRAPHY):
        return "title: typography (quotes)"
    return "title differs"


def date_reason(hugo: str, ours: str) -> str | None:
    """None when the dates are the same instant with the same offset."""
    if not hugo and not ours:
        return None
    if not ours:
        return "date: missing in bitopia"
    if not hugo:
        return "date: bitopia has one, Hugo none"
    try:
        a, b = datetime.fromisoformat(hugo), datetime.fromisoformat(ours)
    except ValueError:
        return None if hugo == ours else "date differs"
    if a == b and a.utcoffset() == b.utcoffset():
        return None
    return "date: same instant, another offset" if a == b else "date differs"


def terms_reason(hugo: dict, ours: dict) -> tuple[str | None, str]:
    """Compare the term pages each taxonomy links a page to (by the file each term URL maps to)."""
    def files(terms: dict) -> dict[str, set[str]]:
        return {tax: {url_file(t["url"]) for t in items if t.get("url")} for tax, items in terms.items() if items}
    a, b = files(hugo), files(ours)
    if a == b:
        return None, ""
    for tax in sorted(a.keys() | b.keys()):
        if tax not in b:
            return f"terms: no `{tax}` in bitopia", _short(sorted(a[tax]))
        if tax not in a:
            return f"terms: `{tax}` in bitopia only", _short(sorted(b[tax]))
        if a[tax] != b[tax]:
            detail = f"Hugo only {_short(sorted(a[tax] - b[tax]))} · bitopia only {_short(sorted(b[tax] - a[tax]))}"
            return "terms: other term URLs", detail
    return None, ""


def body_reason(hugo_html: str, our_html: str, hugo: list, ours: list,
                site: site_templates.SiteTemplates = site_templates.NONE, called: list[str] | None = None) -> tuple[str, str]:
    """The first rule that explains why two bodies differ, and where they first part. A difference
    the site's own Go templates make (its render hooks, its shortcodes) is a class of its own: bitopia
    runs neither."""
    i = next((n for n, (a, b) in enumerate(zip(hugo, ours)) if a != b), min(len(hugo), len(ours)))
    made_by = site_templates.made_by(site, called or [], hugo, ours, i)
    if made_by is not None:
        where = f"Hugo {_short(report.show_tokens(hugo[i:i + 3]))} · bitopia {_short(report.show_tokens(ours[i:i + 3]))}"
        return site_templates.CLASS, f"{made_by}: {where}"
    if not ours:
        return "body: empty in bitopia", ""
    if not hugo:
        return "body: empty in Hugo", ""
    our_text = html.unescape(our_html)
    match = _SHORTCODE.search(our_text)
    if match and not _SHORTCODE.search(html.unescape(hugo_html)):
        return "body: shortcode left in bitopia's text", repr(our_text[match.start():match.start() + 60])
    if "<!-- raw HTML omitted -->" in hugo_html:
        return "body: raw HTML omitted by Hugo (goldmark unsafe is off)", ""
    detail = f"Hugo {_short(report.show_tokens(hugo[i:i + 3]))} · bitopia {_short(report.show_tokens(ours[i:i + 3]))}"
    if i == len(hugo):
        return "body: bitopia has more at the end", detail
    if i == len(ours):
        return "body: Hugo has more at the end", detail
    a, b = hugo[i], ours[i]
    if a[0] == b[0] == "code":
        return ("code block: text differs" if a[1].text != b[1].text else "code block: line numbers differ"), detail
    if a[0] == b[0] == "<" and a[1] == b[1]:
        names = sorted({k for k, _ in set(a[2]) ^ set(b[2])})
        ours_attrs, hugo_attrs = dict(b[2]), dict(a[2])
        detail = "; ".join(f"{k}: {_text_detail(hugo_attrs.get(k, '(none)'), ours_attrs.get(k, '(none)'))}"
                           for k in names)
        if a[1] in ("h1", "h2", "h3", "h4", "h5", "h6") and names == ["id"]:
            return "body: heading id differs", detail
        return f"body: attribute {', '.join(names)} of <{a[1]}> differs", detail
    if a[0] == b[0] == "t":
        detail = _text_detail(a[1], b[1])
        if _DASHES.sub("-", a[1].translate(_TYPOGRAPHY)) == _DASHES.sub("-", b[1].translate(_TYPOGRAPHY)):
            return "body: typography (quotes, dashes, ellipses)", detail
        if "".join(a[1].split()) == "".join(b[1].split()):
            return "body: whitespace inside text", detail
        return "body: text differs", detail
    return f"body: markup: Hugo {report.show_token(a, tag_only=True)}, bitopia {report.show_token(b, tag_only=True)}", detail


def _text_detail(a: str, b: str) -> str:
    """Where two texts part, with some words either side."""
    at = next((n for n, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(0, at - 20)
    return f"Hugo {_short(a[start:at + 30])} · bitopia {_short(b[start:at + 30])}"


# Figures Hugo's side alone decides: when they change, the corpus, the probe or Hugo did.
HUGO_TOTALS = ("hugo_pages_stat", "hugo_pages", "hugo_lists", "hugo_list_bodies", "hugo_urls", "code_blocks")
MORE_IS_BETTER = ("titles_equal", "dates_equal", "lastmods_equal", "terms_equal", "bodies_equal", "code_blocks_equal",
                  "list_titles_equal", "list_bodies_equal")


def ratchet(expected: dict, measured: dict) -> tuple[list[str], list[str]]:
    """How `measured` is worse, and how it is better, than the committed figures `expected`."""
    worse, better = [], []
    for key in HUGO_TOTALS:
        if expected.get(key) != measured[key]:
            worse.append(f"{key} is {measured[key]}, expected.json says {expected.get(key)}: Hugo's side changed "
                         "(the corpus, the probe or Hugo's version)")
    for key, good in (("builds", True), ("traceback", False)):
        if expected.get(key) != measured[key]:
            (better if measured[key] == good else worse).append(f"{key}: {expected.get(key)} -> {measured[key]}")
    if not measured["builds"] and not expected.get("builds") and measured["errors"] != expected.get("errors"):
        was = expected.get("errors", 0)
        (worse if measured["errors"] > was else better).append(f"errors: {was} -> {measured['errors']}")
    for kind in sorted(expected.get("missing", {}).keys() | measured["missing"].keys()):
        was, now = expected.get("missing", {}).get(kind, 0), measured["missing"].get(kind, 0)
        if now != was:
            (worse if now > was else better).append(f"missing {kind} URLs: {was} -> {now}")
    for key in MORE_IS_BETTER:
        was = expected.get(key, 0)
        if measured[key] != was:
            (worse if measured[key] < was else better).append(f"{key}: {was} -> {measured[key]}")
    return worse, better


def run(names: list[str] | None = None, jobs: int = 2, use_cache: bool = True,
        echo=print) -> list[BlogReport]:
    """Compare every blog (or those whose names contain one of `names`)."""
    version = hugo_side.hugo_version()
    chosen = [(n, p) for n, p in blogs() if not names or any(part in n for part in names)]
    reports = []
    for name, source in chosen:
        rep = compare_blog(name, source, version, jobs, use_cache)
        echo(report.blog_table(rep))
        reports.append(rep)
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.hugo_oracle.compare", description=__doc__.split("\n")[0])
    parser.add_argument("blogs", nargs="*", help="parts of blog names (default: every blog)")
    parser.add_argument("--update", action="store_true", help="rewrite expected.json and DIFFERENCES.md")
    parser.add_argument("--no-cache", action="store_true", help="build with Hugo again, not from its cache")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="processes for bitopia (default 2)")
    args = parser.parse_args(argv)
    if not blogs():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 2
    if args.update and args.blogs:
        parser.error("--update compares every blog: give no BLOG")
    reports = run(args.blogs, args.jobs, not args.no_cache)
    print(report.overall_table(reports))
    print(report.reasons_table(reports, limit=25))
    expected = json.loads(EXPECTED.read_text(encoding="utf-8")) if EXPECTED.is_file() else {}
    for rep in reports:
        if rep.name in expected:
            worse, better = ratchet(expected[rep.name], rep.figures)
            for line in worse:
                print(f"WORSE than expected.json: {rep.name}: {line}")
            for line in better:
                print(f"better than expected.json: {rep.name}: {line}")
    if args.update:
        EXPECTED.write_text(json.dumps({r.name: r.figures for r in reports}, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
        DIFFERENCES.write_text(report.differences_markdown(reports, hugo_side.hugo_version()), encoding="utf-8")
        print(f"wrote {EXPECTED.name} and {DIFFERENCES.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
