"""Which libraries the speed tricks may reach into: their private parts are used only for the
versions the tests cover (pyproject.toml asks for the same ranges); outside them the code takes
the library's public path, and says so once."""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from importlib import metadata

# library -> (lowest version covered, first version not covered)
RANGES: dict[str, tuple[str, str]] = {
    "jinja2": ("3.1.2", "3.2"),  # codegen.RunCodeGenerator, render._Environment, _Template
    "markupsafe": ("2.1", "3.1"),  # codegen.escape_text: markupsafe._escape_inner
    "cmarkgfm": ("2024.1", "2026"),  # cmark.to_html: cmarkgfm._cmark
}


def _numbers(version: str) -> tuple[int, ...]:
    """The leading release numbers of a version (`3.1.6` -> (3, 1, 6); `3.2.0rc1` -> (3, 2, 0))."""
    return tuple(int(part) for part in re.match(r"[\d.]*", version).group().split(".") if part)


def installed(library: str) -> str | None:
    """The version of `library` installed, or None."""
    try:
        return metadata.version(library)
    except metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=None)
def covered(library: str) -> bool:
    """Whether the installed `library` is in the range whose private parts the tests cover; when
    it is not, one warning on stderr says the public (slower) path is taken."""
    low, high = RANGES[library]
    version = installed(library)
    if version is not None and _numbers(low) <= _numbers(version) < _numbers(high):
        return True
    print(f"bitopia: warning: {library} {version or '(unknown version)'} is outside the range this "
          f"bitopia was tested with (>={low},<{high}); using its public API, which is slower — "
          f"install a version in that range for full speed", file=sys.stderr)
    return False
