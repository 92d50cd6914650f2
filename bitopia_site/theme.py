"""Theme lookup: where templates and static files come from, site over theme over parents."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bitopia_site.errors import SiteError

DEFAULT_THEME = "bitopia"
PACKAGED_THEMES = Path(__file__).resolve().parent / "themes"


@dataclass(frozen=True, slots=True)
class Theme:
    """The resolved chain of theme folders, most specific first."""

    template_dirs: tuple[Path, ...]
    static_dirs: tuple[Path, ...]
    params: dict[str, Any]
    names: tuple[str, ...]


def _theme_dir(root: Path, name: str) -> Path | None:
    for base in (root / "themes", PACKAGED_THEMES):
        candidate = base / name
        if (candidate / "templates").is_dir():
            return candidate
    return None


def load_theme(root: Path, name: str) -> Theme:
    """Resolve `name` and its parents (theme.yaml `parent:`); the default theme comes last
    unless a theme.yaml says `parent: none`."""
    chain: list[Path] = []
    standalone = False  # theme.yaml `parent: none`: no implicit fallback to the default theme
    names: list[str] = []
    params: dict[str, Any] = {}
    current: str | None = name or DEFAULT_THEME
    while current:
        folder = _theme_dir(root, current)
        if folder is None:
            raise SiteError("site.yaml", f"theme `{current}` not found",
                            f"put it in themes/{current}/templates/ or set `theme: {DEFAULT_THEME}`")
        if folder in chain:
            raise SiteError(f"themes/{current}/theme.yaml", "the theme's parents form a loop", "fix `parent:`")
        chain.append(folder)
        names.append(current)
        meta = _theme_meta(folder)
        params = {**(meta.get("params") or {}), **params}
        current = meta.get("parent")
        if current in (False, "none", "None"):
            standalone = True
            current = None
    if names[-1] != DEFAULT_THEME and not standalone:
        default = _theme_dir(root, DEFAULT_THEME)
        if default is not None and default not in chain:
            chain.append(default)
            names.append(DEFAULT_THEME)
    template_dirs = [root / "templates"] if (root / "templates").is_dir() else []
    template_dirs += [folder / "templates" for folder in chain]
    static_dirs = [folder / "static" for folder in chain if (folder / "static").is_dir()]
    return Theme(tuple(template_dirs), tuple(static_dirs), params, tuple(names))


def _theme_meta(folder: Path) -> dict[str, Any]:
    path = folder / "theme.yaml"
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SiteError(str(path.name), f"invalid theme.yaml: {exc}", "fix its YAML") from None
    return data if isinstance(data, dict) else {}
