"""cmark-gfm's Markdown to HTML, freeing what the C library allocates.

cmarkgfm's own `markdown_to_html_with_extensions` never frees the parsed tree nor the HTML
buffer: about 80 KB lost per post, 800 MB over a 10,000-post build. Here the same calls are
made and both are freed with the library's own `cmark_node_free` and the C `free`.
"""

from __future__ import annotations

import ctypes
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterator, Sequence

from cmarkgfm.cmark import (core_extensions_ensure_registered, find_syntax_extension,
                            markdown_to_html_with_extensions)

from bitopia_site import fences

try:
    if not fences.covered("cmarkgfm"):
        raise ImportError("a cmarkgfm the tests do not cover: its public API only")
    from cmarkgfm import _cmark
    _NATIVE = ctypes.CDLL(_cmark.__file__)  # the module's own shared library, already loaded
    _NATIVE.cmark_node_free.argtypes = [ctypes.c_void_p]
    _NATIVE.cmark_node_free.restype = None
    _C_FREE = ctypes.CDLL(None).free  # cmark's default allocator is the C library's
    _C_FREE.argtypes = [ctypes.c_void_p]
    _C_FREE.restype = None
    for _name, _result, _args in (("cmark_iter_new", ctypes.c_void_p, [ctypes.c_void_p]),
                                  ("cmark_iter_next", ctypes.c_int, [ctypes.c_void_p]),
                                  ("cmark_iter_get_node", ctypes.c_void_p, [ctypes.c_void_p]),
                                  ("cmark_node_get_type", ctypes.c_int, [ctypes.c_void_p]),
                                  ("cmark_node_get_literal", ctypes.c_char_p, [ctypes.c_void_p]),
                                  ("cmark_iter_free", None, [ctypes.c_void_p])):
        getattr(_NATIVE, _name).restype = _result
        getattr(_NATIVE, _name).argtypes = _args
except (ImportError, OSError, AttributeError, TypeError):  # without these: leak, as cmarkgfm itself does
    _NATIVE = _C_FREE = None


def _address(pointer: object) -> int:
    return int(_cmark.ffi.cast("uintptr_t", pointer))


@lru_cache(maxsize=None)
def _extensions(names: tuple[str, ...]) -> list[object]:
    """The syntax extensions by name, looked up once, not once a post."""
    core_extensions_ensure_registered()
    found = [find_syntax_extension(name) for name in names]
    if any(ext is None for ext in found):
        raise ValueError(f"unknown cmark-gfm extension in {list(names)}")
    return found


_HTML_BLOCK = 0x8006  # CMARK_NODE_HTML_BLOCK in cmark-gfm.h
_ENTER, _DONE = 2, 1  # cmark_event_type


@contextmanager
def _parsed(text: str, options: int, extensions: Sequence[str]) -> Iterator[tuple[Any, Any]]:
    """cmark-gfm's parser and the tree of `text` it made, both freed on leaving (the C library is at hand)."""
    lib = _cmark.lib
    parser = lib.cmark_parser_new(options)
    try:
        for extension in _extensions(tuple(extensions)):
            lib.cmark_parser_attach_syntax_extension(parser, extension)
        data = text.encode("utf-8")
        lib.cmark_parser_feed(parser, data, len(data))
        root = lib.cmark_parser_finish(parser)
        try:
            yield parser, root
        finally:
            _NATIVE.cmark_node_free(_address(root))
    finally:
        lib.cmark_parser_free(parser)


def html_blocks(text: str, options: int, extensions: Sequence[str]) -> list[str] | None:
    """The raw HTML blocks of the Markdown `text` as cmark-gfm reads them (each one's text, as its
    HTML holds it), in order; None without cmark-gfm's C library at hand (see the fence above)."""
    if _NATIVE is None or _C_FREE is None:
        return None
    blocks: list[str] = []
    with _parsed(text, options, extensions) as (_, root):
        walk = _NATIVE.cmark_iter_new(_address(root))
        try:
            while (event := _NATIVE.cmark_iter_next(walk)) != _DONE:
                node = _NATIVE.cmark_iter_get_node(walk)
                if event == _ENTER and _NATIVE.cmark_node_get_type(node) == _HTML_BLOCK:
                    blocks.append((_NATIVE.cmark_node_get_literal(node) or b"").decode("utf-8"))
        finally:
            _NATIVE.cmark_iter_free(walk)
    return blocks


def to_html(text: str, options: int, extensions: Sequence[str]) -> str:
    """What `cmarkgfm.markdown_to_html_with_extensions(text, options, extensions)` returns."""
    if _NATIVE is None or _C_FREE is None:
        return markdown_to_html_with_extensions(text, options=options, extensions=list(extensions))
    lib, ffi = _cmark.lib, _cmark.ffi
    with _parsed(text, options, extensions) as (parser, root):
        raw = lib.cmark_render_html(root, options, lib.cmark_parser_get_syntax_extensions(parser))
        try:
            return ffi.string(raw).decode("utf-8")
        finally:
            _C_FREE(_address(raw))
