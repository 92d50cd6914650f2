"""Fingerprints of output pages: a hash of everything a page's template sees, so a page whose
fingerprint did not change since the last build need not be rendered again."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

from bitopia_site.body import Body
from bitopia_site.model import OutputPage


class Fingerprinter:
    """Hashes template contexts; document views count by their document's digest, not their text."""

    def __init__(self, view_digests: dict[int, str], global_key: str,
                 view_sources: dict[int, str] | None = None, steady: set[int] | None = None) -> None:
        self.view_digests = view_digests
        self.view_sources = view_sources or {}  # id(view) -> its document's source
        self.global_key = global_key
        # ids of dicts that many pages show and that never change while their holder lives (the
        # links of views.py): each is flattened once, and its flat text kept
        self.steady = steady or set()
        self._flat: dict[int, str] = {}

    def page(self, page: OutputPage) -> str:
        return self.page_and_uses(page)[0]

    def page_and_uses(self, page: OutputPage) -> tuple[str, tuple[str, ...]]:
        """The page's fingerprint, and the sources of the documents whose views it shows."""
        parts: list[str] = [self.global_key, page.url, "|".join(page.templates)]
        used: set[str] = set()
        self._walk(page.context, parts, used)
        return _digest(parts), tuple(sorted(used))

    def value(self, value: Any, used: set[str] | None = None) -> str:
        """The fingerprint of any value; the sources of the document views in it go to `used`."""
        parts: list[str] = []
        self._walk(value, parts, used if used is not None else set())
        return _digest(parts)

    def _walk(self, value: Any, parts: list[str], used: set[str]) -> None:
        """Flatten `value` into `parts`; each dict and list gives its length first (after a control
        character no text holds), so two different values never flatten alike. Dicts keep their
        order: contexts are built in a fixed order, so the same inputs give the same order (a
        reordered front matter only costs a re-render)."""
        append = parts.append
        kind = type(value)
        if kind is str:
            append(value)
        elif kind is dict:
            known = self.view_digests.get(id(value))
            if known is not None:
                append(known)
                source = self.view_sources.get(id(value))
                if source is not None:
                    used.add(source)
                return
            if id(value) in self.steady:
                flat = self._flat.get(id(value))
                if flat is None:  # joined as _digest joins: the same text as flattening it in place
                    inner: list[str] = []
                    self._walk(dict(value), inner, used)
                    flat = self._flat[id(value)] = "\x1f".join(inner)
                append(flat)
                return
            append(f"\x1e{{{len(value)}")
            walk = self._walk
            for key, item in value.items():
                append(key if type(key) is str else str(key))
                if type(item) is str:
                    append(item)
                else:
                    walk(item, parts, used)
        elif kind is list or kind is tuple:
            append(f"\x1e[{len(value)}")
            walk = self._walk
            for item in value:
                if type(item) is str:
                    append(item)
                else:
                    walk(item, parts, used)
        elif value is None or kind is bool or kind is int or kind is float:
            append(f"\x01{value!r}")  # marked, so 1 and "1" differ
        elif isinstance(value, str):
            append(value)
        elif kind is Body:
            append(str(value))
        elif isinstance(value, (datetime, date)):
            append(value.isoformat())
        elif isinstance(value, dict):
            self._walk(dict(value), parts, used)
        elif callable(value):
            append(f"callable:{getattr(value, '__qualname__', type(value).__name__)}")
        else:
            append(f"{type(value).__name__}:{value!r}")


def _digest(parts: list[str]) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def files_digest(folders: Iterable[Path]) -> str:
    """A hash of every file below the folders (names and bytes): the templates a build used."""
    h = hashlib.blake2b(digest_size=16)
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            h.update(str(path.relative_to(folder)).encode() + b"\0")
            try:
                h.update(path.read_bytes())
            except OSError:  # gone while we looked (an editor's temp file): it is not a template
                continue
    return h.hexdigest()
