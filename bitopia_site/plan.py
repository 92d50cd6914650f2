"""SiteIndex -> the list of OutputPages to render: every page, list, feed and redirect of the site."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Collection, Iterator

from bitopia_site import urls
from bitopia_site.config import SiteConfig
from bitopia_site.errors import SiteError
from bitopia_site.index import sort_key
from bitopia_site.list_titles import hugo_title
from bitopia_site.model import Document, OutputPage, SiteIndex
from bitopia_site.views import Views

FEED_LIMIT_DEFAULT = 20


@dataclass(frozen=True)
class PlanSettings:
    """What of the site's config shapes its plan: list and feed sizes, the feeds' file name (Hugo's
    RSS `baseName` + `.xml`), the Hugo kinds left out (`off`: a Hugo config's disableKinds), whether
    there is a search page, and Hugo's rules (`hugo`: a `layout:` with no template falls back to
    the default one; a term's page is titled as Hugo titles it, unless its `capitalizeListTitles` is
    off)."""

    paginate: int = 10
    feed_limit: int = FEED_LIMIT_DEFAULT
    feed_name: str = "index.xml"
    off: Collection[str] = ()
    search: bool = False
    hugo: bool = False
    capitalize_terms: bool = False

    @classmethod
    def of(cls, config: SiteConfig) -> PlanSettings:
        return cls(config.paginate, config.feed_limit, config.feed_name, config.kinds_off, config.search, config.hugo,
                   config.hugo and config.capitalize_list_titles)


def plan_site(index: SiteIndex, views: Views, settings: PlanSettings, only: Collection[str] | None = None,
              static: Collection[str] = ()) -> list[OutputPage]:
    """Every output file the site needs, in a stable order; with `only`, just the pages whose
    output paths it holds (the others are not even made: a rebuild after one edit needs a few)."""
    return (plan_documents(index, views, only, settings.hugo)
            + plan_lists(index, views, settings, only, static))


def plan_documents(index: SiteIndex, views: Views, only: Collection[str] | None = None,
                   layouts_optional: bool = False) -> list[OutputPage]:
    """The pages of plan_site that show one document each: its own page and its aliases. With
    `layouts_optional` (a Hugo site), a `layout:` with no template falls back to the default one."""
    want = (lambda path: True) if only is None else only.__contains__  # noqa: E731
    pages: list[OutputPage] = []
    for doc in index.documents:
        if want(urls.output_path(doc.url)):
            pages.append(_document_page(doc, views, layouts_optional))
        for alias in doc.aliases:
            if want(urls.output_path(alias)):
                pages.append(_alias(alias, doc.url, doc.source))
    return pages


def plan_lists(index: SiteIndex, views: Views, settings: PlanSettings, only: Collection[str] | None = None,
               static: Collection[str] = ()) -> list[OutputPage]:
    """The rest of plan_site: lists, feeds, archives, 404, robots.txt and, with search, the search
    page (these three only where the site's `static` files have none of their own: as in Hugo, the
    site's own file wins). The pages of the Hugo kinds `settings.off` (section, taxonomy, 404,
    robotstxt) are left out."""
    paginate, feed_limit, off, feed = settings.paginate, settings.feed_limit, settings.off, settings.feed_name
    term_title = hugo_title if settings.capitalize_terms else str
    want = (lambda path: True) if only is None else only.__contains__  # noqa: E731
    pages: list[OutputPage] = []
    pages += _paginated("/", ("home.html", "list.html"), index.posts, views, paginate, want, sitemap=True,
                        kind="home", title="", feed_url=f"/{feed}")
    if want(feed):
        pages.append(_feed(f"/{feed}", "", views.docs(index.posts[:feed_limit]), "/"))
    for section in index.sections if "section" not in off else ():
        pages += _paginated(section.url, (f"section-{section.name}.html", "section.html", "list.html"),
                            section.posts, views, paginate, want, sitemap=True, kind="section",
                            title=section.title, feed_url=f"{section.url}{feed}", content=section.html)
        if want(urls.output_path(f"{section.url}{feed}")):
            pages.append(_feed(f"{section.url}{feed}", section.title, views.docs(section.posts[:feed_limit]),
                               section.url))
    for taxonomy in index.taxonomies:
        if not taxonomy.terms and not settings.hugo:  # Hugo lists a taxonomy with no terms yet: an empty page
            continue
        if "taxonomy" not in off and want(urls.output_path(taxonomy.url)):
            terms = [views.term(t) for t in taxonomy.terms]
            pages.append(OutputPage(urls.output_path(taxonomy.url), taxonomy.url, ("terms.html",),
                                    {"kind": "terms", "title": taxonomy.name.title(), "taxonomy": taxonomy.name,
                                     "terms": terms}, in_sitemap=True))
        if "taxonomy" not in off and want(urls.output_path(f"{taxonomy.url}{feed}")):
            newest_first = sorted(taxonomy.terms, key=lambda t: sort_key(t.posts[0]))[:feed_limit]
            term_items = [{"title": t.name, "url": t.url, "date": t.posts[0].date, "author": "", "categories": [],
                           "summary": _count(len(t.posts)), "content": _count(len(t.posts))}
                          for t in newest_first]
            pages.append(_feed(f"{taxonomy.url}{feed}", taxonomy.name.title(), term_items, taxonomy.url))
        for term in taxonomy.terms:
            term_feed = f"{term.url}{feed}"
            pages += _paginated(term.url, (f"term-{taxonomy.name}.html", "term.html", "list.html"), term.posts,
                                views, paginate, want, sitemap=True, kind="term", title=term_title(term.name),
                                feed_url=term_feed,
                                term=views.term(term))
            if want(urls.output_path(term_feed)):
                pages.append(_feed(term_feed, term.name, views.docs(term.posts[:feed_limit]), term.url))
    pages += [page for page in _archives(index, views, want) if want(page.path)]
    if want("404.html") and "404.html" not in static and "404" not in off:
        pages.append(OutputPage("404.html", "/404.html", ("404.html",),
                                {"kind": "404", "title": "Page not found", "recent": views.links(index.posts[:5])}))
    if want("robots.txt") and "robots.txt" not in static and "robotstxt" not in off:
        pages.append(OutputPage("robots.txt", "/robots.txt", ("robots.txt",),
                                {"kind": "robots", "sitemap": "sitemap" not in off}))
    if settings.search and want("search/index.html") and "search/index.html" not in static:
        pages.append(OutputPage("search/index.html", "/search/", ("search.html",),
                                {"kind": "search", "title": "Search"}, in_sitemap=True))
    return pages


def add_sitemap(pages: list[OutputPage], off: Collection[str] = ()) -> list[OutputPage]:
    """Add sitemap.xml, listing every page marked for it (published pages only), unless the Hugo kind
    `sitemap` is `off`. It comes first: the largest page of a big site, it is rendered while the
    workers are still small, not at their peak."""
    if "sitemap" in off:
        return pages
    entries = [{"url": p.url, "lastmod": p.context.get("lastmod")} for p in pages if p.in_sitemap]
    entries.sort(key=lambda e: e["url"])
    return [OutputPage("sitemap.xml", "/sitemap.xml", ("sitemap.xml",), {"kind": "sitemap", "entries": entries}),
            *pages]


def check_collisions(pages: list[OutputPage], static: dict[str, Any]) -> list[SiteError]:
    """Two outputs on one file is an error that names both sources."""
    owners: dict[str, str] = {}
    errors = []
    for page in pages:
        owner = _owner(page)
        other = owners.get(page.path)
        if other is not None:
            first, second = sorted((other, owner))
            errors.append(SiteError(second, f"its URL {page.url} is also the URL of {first}",
                                    "give one of them another `url:` or `slug:`"))
        else:
            owners[page.path] = owner
    for path in sorted(static.keys() & owners.keys()):
        errors.append(SiteError(owners[path], f"writes {path}, which the static file {path} also provides",
                                "rename or move one of them"))
    files = {**{path: f"the static file {path}" for path in static}, **owners}
    for path in sorted(files):  # a file where another output needs a folder: x.html and x.html/y/index.html
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        while folder:
            if folder in files:
                errors.append(SiteError(files[path], f"writes {path}, but {files[folder]} writes {folder} "
                                        "as a file, so it cannot be a folder too",
                                        "give one of them another `url:` or alias, or rename the file"))
                break
            folder = folder.rsplit("/", 1)[0] if "/" in folder else ""
    return errors


def _owner(page: OutputPage) -> str:
    doc = page.context.get("page")
    if page.context.get("kind") == "alias":
        return f"{page.context['source']} (alias)"
    if isinstance(doc, dict) and doc.get("source"):
        return doc["source"]
    return f"the generated {page.context.get('kind', 'page')} page {page.url}"


def _document_page(doc: Document, views: Views, layouts_optional: bool = False) -> OutputPage:
    layout = doc.params.get("layout")
    default = "page.html" if doc.is_page else "post.html"
    templates = (f"{layout}.html",) if isinstance(layout, str) and layout else (default,)
    if layouts_optional and templates[0] != default:
        templates += (default,)
    context = {"kind": "page" if doc.is_page else "post", "title": doc.title, "page": views.doc(doc),
               "lastmod": doc.lastmod or doc.date, "layout": layout if isinstance(layout, str) else None,
               **views.post_extras(doc)}
    return OutputPage(urls.output_path(doc.url), doc.url, templates, context, in_sitemap=doc.listed != "never")


def _alias(alias: str, target: str, source: str) -> OutputPage:
    return OutputPage(urls.output_path(alias), alias, ("alias.html",),
                      {"kind": "alias", "target": target, "title": "Redirect", "source": source})


def _paginated(base: str, templates: tuple[str, ...], docs: tuple[Document, ...], views: Views, size: int,
               want: Callable[[str], bool], *, sitemap: bool, kind: str, title: str, feed_url: str,
               **extra: Any) -> Iterator[OutputPage]:
    total = max(1, -(-len(docs) // size))
    page_url = lambda n: base if n == 1 else f"{base}page/{n}/"  # noqa: E731
    for number in range(1, total + 1):
        url = page_url(number)
        path = urls.output_path(url)
        if not want(path):
            continue
        items = views.docs(docs[(number - 1) * size: number * size])
        pager = {
            "items": items, "number": number, "total": total,
            "prev_url": page_url(number - 1) if number > 1 else None,
            "next_url": page_url(number + 1) if number < total else None,
            "first_url": page_url(1), "last_url": page_url(total), "count": len(docs),
            "links": _page_links(number, total, page_url),
        }
        lastmod = max((i["lastmod"] for i in items if i["lastmod"]), default=None)
        context = {"kind": kind, "title": title, "pager": pager, "feed_url": feed_url, "lastmod": lastmod, **extra}
        yield OutputPage(path, url, templates, context, in_sitemap=sitemap and number == 1)
    if want(urls.output_path(f"{base}page/1/")):
        yield _alias(f"{base}page/1/", base, f"the generated list {base}")


def _page_links(number: int, total: int, page_url) -> list[dict[str, Any]]:
    """Page numbers to show: the first, the last and two either side of the current one, with
    gaps (`{"gap": True}`) between; a fixed size, so pagination stays linear in the number of pages."""
    shown = sorted({1, total, *range(max(1, number - 2), min(total, number + 2) + 1)})
    links: list[dict[str, Any]] = []
    for n in shown:
        if links and n - links[-1]["number"] > 1:
            links.append({"gap": True, "number": n - 1})
        links.append({"number": n, "url": page_url(n), "current": n == number, "gap": False})
    return links


def _feed(url: str, title: str, items: list[dict[str, Any]], home: str) -> OutputPage:
    updated = max((i["date"] for i in items if i["date"]), default=None)
    return OutputPage(urls.output_path(url), url, ("feed.xml",),
                      {"kind": "feed", "title": title, "items": items, "link": home, "updated": updated})


def _count(n: int) -> str:
    return f"{n} post" if n == 1 else f"{n} posts"


def _archives(index: SiteIndex, views: Views, want: Callable[[str], bool]) -> list[OutputPage]:
    taken = {doc.url for doc in index.documents}
    if not any(want(path) for path in _archive_paths(index)):
        return []
    pages = []
    years = [{"year": year, "months": [{"month": m, "posts": [views.link(d) for d in posts]} for m, posts in months]}
             for year, months in index.archives]
    if "/archives/" not in taken:
        pages.append(OutputPage("archives/index.html", "/archives/", ("archive.html",),
                                {"kind": "archive", "title": "Archives", "years": years}, in_sitemap=True))
    for year in years:
        url = f"/archives/{year['year']}/"
        if url not in taken:
            pages.append(OutputPage(urls.output_path(url), url, ("archive.html",),
                                    {"kind": "archive", "title": f"Archives: {year['year']}", "years": [year]},
                                    in_sitemap=True))
        for month in year["months"]:
            url = f"/archives/{year['year']}/{month['month']:02d}/"
            if url not in taken:
                pages.append(OutputPage(urls.output_path(url), url, ("archive.html",),
                                        {"kind": "archive", "title": f"Archives: {year['year']}-{month['month']:02d}",
                                         "years": [{"year": year["year"], "months": [month]}]}, in_sitemap=True))
    return pages


def _archive_paths(index: SiteIndex) -> Iterator[str]:
    yield "archives/index.html"
    for year, months in index.archives:
        yield f"archives/{year}/index.html"
        for month, _ in months:
            yield f"archives/{year}/{month:02d}/index.html"
