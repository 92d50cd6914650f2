"""Body: a document's rendered HTML, kept as UTF-8 and read as the Markup it holds."""

from __future__ import annotations

from typing import Any, Callable

from markupsafe import Markup


class Body(bytearray):
    """A document's HTML as UTF-8, decoded each time a template reads it; read-only.

    Rendered Markdown has curly quotes, which make a str take two bytes a character; a site's
    bodies are the largest thing a build holds, so this halves it. A bytearray, not bytes: its
    bytes lie apart from the small object that holds them (as a Markup's do), so a forked worker
    that touches the object to print it copies the memory page of the object, not one of the text.
    To templates and code it behaves as the Markup it holds: printed unescaped, `str()` gives that
    Markup, `len()` counts characters, and str's methods and Markup's (`striptags`) work on it.
    Python code that needs a real str (`re`, `json`, `"".join`) takes `str(body)`. Its methods that
    would change it are refused; a memoryview of it could still write to it: never do that.
    """

    __slots__ = ()

    def __init__(self, text: str | bytes) -> None:
        super().__init__(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))

    def text(self) -> Markup:
        return Markup(self.decode("utf-8", "surrogatepass"))

    __html__ = __str__ = text  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.text())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Body):
            return bytearray.__eq__(self, other)
        return self.text() == other if isinstance(other, str) else NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self.text())

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:  # bytearray's own would win over __reduce__
        return Body, (bytes(self),)

    def __getattr__(self, name: str) -> Any:  # Markup's own methods: striptags, unescape
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.text(), name)


def _read_only(self: Body, *args: Any, **kwargs: Any) -> None:
    raise TypeError("a document's body cannot be changed")


def _as_text(name: str) -> Callable[..., Any]:
    def method(self: Body, *args: Any, **kwargs: Any) -> Any:
        if args:
            args = tuple(arg.text() if isinstance(arg, Body) else arg for arg in args)
        return getattr(self.text(), name)(*args, **kwargs)
    method.__name__ = name
    return method


# bytearray has methods of the same names as str's (split, upper, __len__, ...), with its own
# meaning: each answers as the text would. Those that change it are refused.
_TEXT_METHODS = [name for name in sorted(set(dir(str)) & set(dir(bytearray)))
                 if not name.startswith("_") and name not in ("decode", "maketrans")]
for _name in [*_TEXT_METHODS, "__add__", "__radd__", "__mul__", "__rmul__", "__mod__", "__rmod__", "__contains__",
              "__getitem__", "__iter__", "__len__", "__lt__", "__le__", "__gt__", "__ge__", "__format__"]:
    setattr(Body, _name, _as_text(_name))
for _name in ["append", "clear", "extend", "insert", "pop", "remove", "reverse", "__setitem__", "__delitem__"]:
    setattr(Body, _name, _read_only)
Body.__iadd__ = _as_text("__add__")  # type: ignore[assignment]  # `s += t` makes a new text, as for a str
Body.__imul__ = _as_text("__mul__")  # type: ignore[assignment]
