"""The site's menus: the config's, and in a Hugo site also the entries pages give themselves in
front matter (`menu: main`, `menus: [main, footer]`, `menu: {main: {weight: 2, parent: x}}`),
nested under their parents and ordered as Hugo orders them."""

from __future__ import annotations

from typing import Any, Iterable

from bitopia_site.model import Document, SiteIndex

Entry = dict[str, Any]
ENTRY_KEYS = ("name", "weight", "parent", "identifier", "pre", "post", "title", "params")


def site_menus(config_menus: dict[str, list[Entry]], index: SiteIndex, hugo: bool) -> dict[str, list[Entry]]:
    """Each menu's entries in order; in a Hugo site with the published pages' own entries, each
    entry with its `children` (the entries naming it as `parent`), and ordered as Hugo orders them."""
    if not hugo:
        return {name: sorted(items, key=lambda i: (i.get("weight", 0), str(i.get("name", ""))))
                for name, items in config_menus.items()}
    menus: dict[str, list[Entry]] = {name: [dict(item) for item in items] for name, items in config_menus.items()}
    for doc in _menu_pages(index):
        for menu, entry in page_entries(doc):
            menus.setdefault(menu, []).append(entry)
    return {name: _nested(items) for name, items in sorted(menus.items())}


def _menu_pages(index: SiteIndex) -> Iterable[Document]:
    yield from index.documents
    yield from (section.index for section in index.sections if section.index is not None)


def page_entries(doc: Document) -> list[tuple[str, Entry]]:
    """The (menu, entry) pairs a page's front matter asks for: its link titled by `linkTitle` or
    its title and weighted by its own weight, unless the entry says otherwise."""
    params = {str(k).lower(): v for k, v in doc.params.items()}
    entries = []
    for menu, settings in _asked(params.get("menus", params.get("menu"))).items():
        own = {str(k).lower(): v for k, v in settings.items() if str(k).lower() in ENTRY_KEYS}
        entry = {"name": str(params.get("linktitle") or doc.title), "url": doc.url, "weight": doc.weight, **own}
        entries.append((menu, entry))
    return entries


def menu_problem(given: Any) -> tuple[str, str] | None:
    """(message, hint) when a front matter's `menu` or `menus` value is none of the forms Hugo reads."""
    if given is None or isinstance(given, str) or isinstance(given, list) and all(
            isinstance(name, str) for name in given):
        return None
    if not isinstance(given, dict):
        return (f"menu must name a menu, list menus or map them to entries, not {given!r}",
                "write `menu: main`, `menus: [main, footer]` or `menu: {main: {weight: 2}}`")
    for menu, settings in given.items():
        if settings is not None and not isinstance(settings, dict):
            return (f"menu `{menu}` must map to the entry's settings, not {settings!r}",
                    "write e.g. `menu: {main: {weight: 2, name: About}}`")
        weight = (settings or {}).get("weight", 0)
        if _weight(weight) is None:
            return f"the weight of menu `{menu}` must be a whole number, not {weight!r}", "write e.g. `weight: 2`"
    return None


def _asked(given: Any) -> dict[str, dict[str, Any]]:
    """The menus a `menu` value names, each with the entry's own settings."""
    if isinstance(given, str):
        return {given: {}}
    if isinstance(given, list):
        return {str(name): {} for name in given}
    if isinstance(given, dict):
        return {str(name): dict(settings or {}) for name, settings in given.items()}
    return {}


def _nested(items: list[Entry]) -> list[Entry]:
    """The top entries of a menu in Hugo's order, each with its `children` (in the same order); an
    entry's identifier is its `identifier`, else its name. A parent no entry names is made, as
    Hugo makes it: named by the identifier, with no URL."""
    by_id = {str(item.get("identifier") or item.get("name", "")): item for item in items}
    for item in items:
        item["children"] = []
    top = [item for item in items if not item.get("parent")]
    for item in items:
        parent = str(item.get("parent") or "")
        if parent and parent not in by_id:
            by_id[parent] = {"name": parent, "url": "", "weight": 0, "identifier": parent, "children": []}
            top.append(by_id[parent])
        if parent:
            by_id[parent]["children"].append(item)
    for item in by_id.values():
        item["children"] = _ordered(item["children"])
    return _ordered(top)


def _ordered(items: list[Entry]) -> list[Entry]:
    """Hugo's order of menu entries: by weight, those without one (0) last; then by name, then identifier."""
    def key(item: Entry) -> tuple[bool, int, str, str, str]:
        weight = _weight(item.get("weight")) or 0
        name = str(item.get("name", ""))
        return weight == 0, weight, name.lower(), name, str(item.get("identifier") or "")
    return sorted(items, key=key)


def _weight(value: Any) -> int | None:
    """A weight as Hugo casts it (`2`, `'2'`; none is 0); None when it is no whole number."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else None
