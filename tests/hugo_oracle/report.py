"""The comparison's tables, for the terminal and for DIFFERENCES.md."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from .compare import BlogReport

# What Hugo 0.168 itself does with each blog that a reader of the tables may not expect.
NOTES = {
    "real-blog": "Hugo 0.168 no longer reads the legacy `paginate = 5`: it pages lists by 10, its default. Its "
                 "`urlize` makes `Code & Tech` into `code--tech`. The live site, built by an older Hugo "
                 "(`live-urls.txt`), has pages of 5 and `/categories/code-tech/`. `mainSections = [\"post\"]` "
                 "names no section of this blog, so the probe's home page lists nothing and has no `/page/N/`.",
    "coderzh__coderzh-hugo-blog": "`outputFormats.RSS.baseName: feed` puts every feed at `feed.xml`; the legacy "
                                  "`PaginatePath` is ignored (pages stay at `page/N/`); `unsafe` is off, so Hugo "
                                  "omits the raw HTML of the cnblogs imports.",
    "j2kun__jeremykun.com": "No `unsafe`: Hugo omits raw HTML (28 pages warn).",
    "linkerd__website": "`disableKinds: [taxonomy, term]`; the one `.html` content file is refused by Hugo "
                        "(no `security.allowContent`); the `x` shortcode's fetch fails offline (Hugo warns, "
                        "writes nothing in its place).",
    "mtlynch__mtlynch.io": "Images its `img` shortcode resizes (named by a hash of Hugo's settings) are left "
                           "out of the comparison.",
    "spf13__spf13.com": "The legacy `[indexes]` is ignored by Hugo 0.168: the default taxonomies (tags, "
                        "categories) apply, and `Topics` is an ordinary parameter.",
    "zzamboni__zzamboni.org": "Built with `HUGO_SECURITY_ALLOWCONTENT='.*'` (326 `.html` content files); the "
                              "probe stubs its theme's `icon` shortcode and partials; `disableAliases = true`, "
                              "so the only redirects Hugo writes are the `page/1/` ones. Its `languages.en.toml` makes it "
                              "a multilingual single-host site, for which Hugo turns on its embedded link and image render "
                              "hooks: a bundle's `images/x.png` becomes `/post/<slug>/images/x.png` and a link to a page "
                              "its permalink (`/contact` -> `/contact/`); bitopia does not yet.",
}

_COLUMNS = ("blog", "bitopia builds", "errors", "pages", "lists", "Hugo URLs", "missing", "extra",
            "titles =", "dates =", "terms =", "bodies =", "bodies ≠ by the site's templates", "code blocks =")


def show_token(token: tuple, tag_only: bool = False) -> str:
    """A normalised token as a reader would recognise it."""
    if token[0] == "<":
        attrs = "" if tag_only else "".join(f' {k}="{v}"' for k, v in token[2])
        return f"<{token[1]}{attrs}>"
    if token[0] == "/":
        return f"</{token[1]}>"
    if token[0] == "code":
        return "code block" if tag_only else f"[code {token[1].text[:40]!r}]"
    return "text" if tag_only else token[1]


def show_tokens(tokens: Iterable[tuple]) -> str:
    return " ".join(show_token(t) for t in tokens)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def _of(part: int, whole: int) -> str:
    return f"{part}/{whole} ({_pct(part, whole)})"


def _kinds(counts: dict) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"


def _row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    header = list(header)
    return "\n".join([_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)])


def overall_row(name: str, f: dict) -> list[object]:
    pages = f["hugo_pages"]
    return [name, "yes" if f["builds"] else ("CRASH" if f["traceback"] else "no"), f["errors"], pages,
            f["hugo_lists"], f["hugo_urls"], f["missing_total"], f["extra_total"], _of(f["titles_equal"], pages),
            _of(f["dates_equal"], pages), _of(f["terms_equal"], pages), _of(f["bodies_equal"], pages),
            f.get("bodies_site_made", 0), _of(f["code_blocks_equal"], f["code_blocks"])]


def overall_table(reports: list[BlogReport]) -> str:
    rows = [overall_row(r.name, r.figures) for r in reports]
    if len(reports) > 1:
        total: dict = {"builds": all(r.figures["builds"] for r in reports),
                       "traceback": any(r.figures["traceback"] for r in reports)}
        for key in ("errors", "hugo_pages", "hugo_lists", "hugo_urls", "missing_total", "extra_total", "titles_equal",
                    "dates_equal", "terms_equal", "bodies_equal", "bodies_site_made", "code_blocks_equal", "code_blocks"):
            total[key] = sum(r.figures[key] for r in reports)
        row = overall_row("**all**", total)
        row[1] = f"{sum(r.figures['builds'] for r in reports)}/{len(reports)}"
        rows.append(row)
    return _table(_COLUMNS, rows)


def figures_table(f: dict) -> str:
    """One blog's figures: what Hugo made, and how much of it bitopia makes the same."""
    return _table(["", "Hugo", "bitopia equal"], [
        ["URLs written", f["hugo_urls"], _of(f["hugo_urls"] - f["missing_total"], f["hugo_urls"])],
        ["missing by kind", "", _kinds(f["missing"])],
        ["extra by kind", "", _kinds(f["extra"])],
        ["page titles", f["hugo_pages"], _of(f["titles_equal"], f["hugo_pages"])],
        ["page dates", f["hugo_pages"], _of(f["dates_equal"], f["hugo_pages"])],
        ["page lastmods", f["hugo_pages"], _of(f["lastmods_equal"], f["hugo_pages"])],
        ["page terms", f["hugo_pages"], _of(f["terms_equal"], f["hugo_pages"])],
        ["page bodies", f["hugo_pages"], _of(f["bodies_equal"], f["hugo_pages"])],
        ["page bodies that differ where the site's own Go templates made them", "", f.get("bodies_site_made", 0)],
        ["code blocks", f["code_blocks"], _of(f["code_blocks_equal"], f["code_blocks"])],
        ["list titles", f["hugo_lists"], _of(f["list_titles_equal"], f["hugo_lists"])],
        ["list bodies (`_index.md` text)", f["hugo_list_bodies"], _of(f["list_bodies_equal"], f["hugo_list_bodies"])],
    ])


def blog_table(rep: BlogReport) -> str:
    """One blog's figures, bitopia's errors and its differences by reason, for the terminal."""
    f = rep.figures
    built = "builds" if f["builds"] else (f"CRASHES: {rep.traceback.splitlines()[-1]}" if f["traceback"]
                                          else f"fails with {f['errors']} errors")
    lines = [f"\n== {rep.name}: bitopia {built} ({rep.seconds['bitopia']} s); Hugo: {rep.hugo_count}; "
             f"{f['hugo_urls']} URLs to match", figures_table(f)]
    if rep.error_classes:
        lines.append("bitopia's errors by kind:")
        lines += [f"  {n:5d}  {cls}" for cls, n in rep.error_classes.most_common(10)]
    reasons = Counter(d.reason for d in rep.differences)
    if reasons:
        lines.append("differences by reason:")
        first = {}
        for d in rep.differences:
            first.setdefault(d.reason, d)
        lines += [f"  {n:5d}  {reason}  (e.g. {first[reason].url})" for reason, n in reasons.most_common(15)]
    return "\n".join(lines)


def reasons_table(reports: list[BlogReport], limit: int | None = None) -> str:
    """Difference classes over all blogs, the largest first, with an example each."""
    counts: Counter = Counter()
    where: dict[str, Counter] = defaultdict(Counter)
    example: dict[str, str] = {}
    for rep in reports:
        for d in rep.differences:
            counts[d.reason] += 1
            where[d.reason][rep.name] += 1
            example.setdefault(d.reason, f"{rep.name} {d.url}")  # no excerpt: the corpus's text stays out of the repo
        for cls, n in rep.error_classes.items():
            reason = f"bitopia error: {cls}"
            counts[reason] += n
            where[reason][rep.name] += n
            example.setdefault(reason, f"{rep.name}: {rep.error_examples[cls]}")
    rows = [[reason, n, _kinds(where[reason]), example[reason][:220]] for reason, n in counts.most_common(limit)]
    return "\n" + _table(["reason", "count", "blogs", "example"], rows)


def differences_markdown(reports: list[BlogReport], hugo_version: str) -> str:
    """DIFFERENCES.md: the tables, then every remaining difference with its reason, blog by blog."""
    out = [
        "# bitopia against Hugo, blog by blog",
        "",
        "Generated by `python3 -m tests.hugo_oracle.compare --update` (do not edit by hand), which also",
        "rewrites `expected.json`, the figures `tests/test_hugo_oracle.py` holds bitopia to.",
        f"Hugo: `{hugo_version}`, with the probe theme of `tests/hugo_oracle/probe/`; bitopia with the",
        "probe templates of `tests/hugo_oracle/bitopia_probe/`. Pages are Hugo's regular pages; lists its",
        "home, sections, taxonomies and terms; `=` counts pages whose title, date, terms or normalised body",
        "equal Hugo's. A failed bitopia build writes nothing: then every URL is missing, and its errors are",
        "listed instead of the URLs. Hugo writes what its theme asks for: the probe paginates the home page",
        "(over `mainSections`), sections and terms, as blog themes do, and lists a taxonomy's terms on one page.",
        "A body that first differs where the site's own Go templates made it (a render hook of its",
        "`layouts/**/_markup/`, for the kind of element where the bodies part; or, on a page that calls one",
        "of the site's own shortcodes, in markup rather than a paragraph's text) is counted unequal as any",
        "other, but its class is \"made by the site's own Go template (render hook / shortcode)\", and the",
        "column `bodies ≠ by the site's templates` counts those pages: bitopia runs no Go template, so these",
        "differences are not its Markdown's to fix.",
        "",
        overall_table(reports),
        "",
        "## Difference classes, all blogs",
        reasons_table(reports),
    ]
    for rep in reports:
        f = rep.figures
        out += ["", f"## {rep.name}", ""]
        out += [f"Hugo's side: {rep.hugo_count}. {NOTES.get(rep.name, '')}".rstrip(), ""]
        out += [figures_table(f), ""]
        if rep.traceback:
            out += ["bitopia crashed:", "", "```", rep.traceback, "```", ""]
        if rep.error_classes:
            out += [f"bitopia's build fails with {f['errors']} errors, so all {f['hugo_urls']} URLs are missing:", "",
                    _table(["error", "count", "example"],
                           [[cls, n, rep.error_examples[cls][:200]] for cls, n in rep.error_classes.most_common()]), ""]
        groups: dict[str, list] = defaultdict(list)
        for d in rep.differences:
            groups[d.reason].append(d)
        for reason, items in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            out += [f"### {reason} ({len(items)})", ""]
            # URLs only: the excerpts (`compare` prints them) would copy the blogs' text into the repo
            out += [", ".join(f"`{d.url}`" for d in items), ""]
    return "\n".join(out).rstrip() + "\n"
