"""Split a document into front matter and body, and parse YAML (---), TOML (+++) or JSON ({)."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import yaml

from bitopia_site.errors import SiteError

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe YAML without implicit timestamps: dates stay text, so we parse and report them."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in _BaseLoader.yaml_implicit_resolvers.copy().items()
}

_FENCES = {"---": "yaml", "+++": "toml"}
MAX_VALUES = 100_000  # YAML aliases can make a few lines mean billions of values ("billion laughs")
_CLOSE = re.compile(r"^(---|\+\+\+|\.\.\.)[ \t]*$", re.M)


def split(text: str, path: str, required: bool = True) -> tuple[dict[str, Any], str, int]:
    """Return (front matter, body, line number where the body starts).

    A document with no front matter is an error when it is `required` (every post of a site.yaml
    site needs at least a title); a Hugo site's is all body.
    """
    text = _newlines(text.lstrip("\ufeff"))
    first = text.split("\n", 1)[0].rstrip()
    if first in _FENCES:
        return _split_fenced(text, path, first)
    if text.startswith("{"):
        return _split_json(text, path)
    if not required:
        return {}, text, 1
    raise SiteError(path, "no front matter found", "start the file with a `---` line, then `title: ...`, then `---`", 1)


def _newlines(text: str) -> str:
    """Windows (CRLF) and old Mac (CR) line ends, or a mix, read as plain LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _split_fenced(text: str, path: str, fence: str) -> tuple[dict[str, Any], str, int]:
    start = text.index("\n") + 1 if "\n" in text else len(text)
    for match in _CLOSE.finditer(text, start):
        if match.group(1) == fence or (fence == "---" and match.group(1) == "..."):
            raw = text[start:match.start()]
            body_at = match.end() + 1
            body = text[body_at:] if body_at <= len(text) else ""
            body_line = text.count("\n", 0, body_at) + 1
            data = _parse_yaml(raw, path) if fence == "---" else _parse_toml(raw, path)
            return data, body, body_line
    raise SiteError(path, f"the front matter opened with `{fence}` is never closed",
                    f"add a line `{fence}` after the last front-matter key", 1)


def _parse_yaml(raw: str, path: str) -> dict[str, Any]:
    simple = simple_yaml(raw)
    if simple is not None:
        return simple
    try:
        data = yaml.load(raw, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark else None  # +1 for 1-based, +1 for the opening ---
        problem = exc.problem or exc.context or "syntax error"
        raise SiteError(path, f"invalid YAML in front matter: {problem}",
                        "check quoting and indentation (a value with `: ` in it needs quotes)", line) from None
    except ValueError as exc:  # a number too long to convert
        raise SiteError(path, f"invalid YAML in front matter: {_number_problem(exc)}",
                        "write a number of fewer digits, or quote it as text", 2) from None
    except (yaml.YAMLError, TypeError, RecursionError) as exc:
        raise SiteError(path, f"invalid YAML in front matter: {exc}", "check the front matter's syntax", 2) from None
    _check_size(data, path)
    return _mapping(data, path)


_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?")
_ITEM = re.compile(r" *- +(.*)")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_NO_VALUE = object()


def simple_yaml(raw: str) -> dict[str, Any] | None:
    """Front matter of the common simple kind (`key: value` lines, lists of `- item` or `[a, b]`)
    read without the YAML library, which spends most of a small post's parse time on it; None for
    anything else, which the library then reads. Gives exactly what the library would."""
    data: dict[str, Any] = {}
    bare: set[str] = set()  # keys written with no value on their line
    key = None
    for line in raw.split("\n"):
        line = line.rstrip(" ")
        if not line:
            continue
        if "#" in line or not line.isprintable():  # comments; tabs, odd line breaks and control characters
            return None
        if line[0] == " " or line[0] == "-":
            item = _ITEM.fullmatch(line)
            if item is None or key is None or not isinstance(data[key], list):
                return None
            value = _scalar(item.group(1))
            if value is _NO_VALUE:
                return None
            data[key].append(value)
            continue
        match = _KEY.fullmatch(line)
        if match is None or _implicit_tag(match.group(1)) is not None:
            return None
        key, text = match.group(1), match.group(2)
        if key in data:
            return None
        if not text:
            data[key] = []  # a list follows, or nothing: then the value is null (below)
            bare.add(key)
            continue
        value = _flow_list(text) if text[0] == "[" else _scalar(text)
        if value is _NO_VALUE:
            return None
        data[key] = value
        key = None
    for name in bare:
        if not data[name]:  # `key:` with no items is null; `key: []` stays a list
            data[name] = None
    return data or None


def _flow_list(text: str) -> Any:
    if not text.endswith("]") or text.count("[") != 1 or text.count("]") != 1 or "{" in text or "}" in text:
        return _NO_VALUE
    inner = text[1:-1].strip(" ")
    if not inner:
        return []
    items = []
    for part in inner.split(","):
        value = _scalar(part.strip(" "))
        if value is _NO_VALUE:
            return _NO_VALUE
        items.append(value)
    return items


def _scalar(text: str) -> Any:
    """A one-line YAML scalar as the library reads it, or _NO_VALUE when it is not a simple one."""
    if not text:
        return _NO_VALUE
    first = text[0]
    if first == '"':
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
            return _NO_VALUE
        return inner
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            return _NO_VALUE
        return inner.replace("''", "'")
    if first in _INDICATORS or ": " in text or text.endswith(":") or "  " in text:
        return _NO_VALUE
    tag = _implicit_tag(text)
    if tag is None:
        return text
    if tag == "tag:yaml.org,2002:bool":
        return _BOOLS[text.lower()]
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:int" and _DECIMAL.fullmatch(text) and len(text) < 100:
        return int(text)  # a longer number is left to PyYAML, and its error
    return _NO_VALUE


def _implicit_tag(text: str) -> str | None:
    """The type YAML gives a plain scalar (bool, int, null...), or None for a string."""
    for tag, pattern in _Loader.yaml_implicit_resolvers.get(text[0], ()):
        if pattern.match(text):
            return tag
    return None


def _check_size(data: Any, path: str) -> None:
    """Refuse front matter that expands (through `*alias`es, or an alias to itself) past MAX_VALUES."""
    stack, count = [data], 0
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise SiteError(path, f"front matter has more than {MAX_VALUES:,} values once its YAML aliases "
                            "(`*name`) are expanded", "write the values out instead of nesting aliases", 2)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)


def _parse_toml(raw: str, path: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) + 1 if match else None
        raise SiteError(path, f"invalid TOML in front matter: {exc}", "check the `key = value` syntax", line) from None
    except ValueError as exc:  # a number too long to convert
        raise SiteError(path, f"invalid TOML in front matter: {_number_problem(exc)}",
                        "write a number of fewer digits, or quote it as text", None) from None
    return _mapping(data, path)


def _number_problem(exc: ValueError) -> str:
    """A ValueError from converting a front-matter number, said in a sentence."""
    text = str(exc)
    return "a number has too many digits" if "digits" in text else text


def _split_json(text: str, path: str) -> tuple[dict[str, Any], str, int]:
    try:
        data, end = json.JSONDecoder().raw_decode(text)
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except json.JSONDecodeError as exc:
        raise SiteError(path, f"invalid JSON front matter: {exc.msg}", "check commas and quotes", exc.lineno) from None
    except RecursionError:
        raise SiteError(path, "invalid JSON front matter: nested too deeply", "flatten the nested lists", 1) from None
    except UnicodeEncodeError:
        raise SiteError(path, "invalid JSON front matter: a \\u escape names half a character (a lone surrogate)",
                        "write the character itself, or both halves of its \\u escape", 1) from None
    except ValueError as exc:  # a number too long to convert
        raise SiteError(path, f"invalid JSON front matter: {_number_problem(exc)}",
                        "write a number of fewer digits, or quote it as text", 1) from None
    body = text[end:].lstrip("\r\n")
    return _mapping(data, path), body, text.count("\n", 0, len(text) - len(body)) + 1


def _mapping(data: Any, path: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SiteError(path, "front matter must be a mapping of keys to values", "write `key: value` lines", 2)
    return {str(k): v for k, v in data.items()}


def key_line(text: str, key: str) -> int | None:
    """The line where a top-level front-matter key is set, for error messages."""
    pattern = re.compile(rf"^['\"]?{re.escape(key)}['\"]?\s*[:=]", re.M | re.I)
    text = _newlines(text)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None
