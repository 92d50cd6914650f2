"""Fingerprints of output pages: a hash of everything a page's template sees, so a page whose
fingerprint did not change since the last build need not be rendered again."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

from bitopia_site.model import OutputPage


class Fingerprinter:
    """Hashes template contexts; document views count by their document's digest, not their text."""

    def __init__(self, view_digests: dict[int, str], global_key: str) -> None:
        self.view_digests = view_digests
        self.global_key = global_key

    def page(self, page: OutputPage) -> str:
        parts: list[str] = [self.global_key, page.url, "|".join(page.templates)]
        self._walk(page.context, parts)
        return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()

    def value(self, value: Any) -> str:
        parts: list[str] = []
        self._walk(value, parts)
        return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()

    def _walk(self, value: Any, parts: list[str]) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, dict):
            known = self.view_digests.get(id(value))
            if known is not None:
                parts.append(known)
                return
            parts.append("{")
            for key in sorted(value, key=str):
                parts.append(str(key))
                self._walk(value[key], parts)
            parts.append("}")
        elif isinstance(value, (list, tuple)):
            parts.append("[")
            for item in value:
                self._walk(item, parts)
            parts.append("]")
        elif isinstance(value, (datetime, date)):
            parts.append(value.isoformat())
        elif value is None or isinstance(value, (bool, int, float)):
            parts.append(repr(value))
        elif callable(value):
            parts.append(f"callable:{getattr(value, '__qualname__', type(value).__name__)}")
        else:
            parts.append(f"{type(value).__name__}:{value!r}")


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
