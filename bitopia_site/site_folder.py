"""What makes a folder a site, for the commands that need one: never build, serve or publish a guess."""

from __future__ import annotations

from pathlib import Path

from bitopia_site.config import CONFIG_SUFFIXES, HUGO_CONFIGS
from bitopia_site.errors import SiteError


def holds_site(root: Path) -> bool:
    """True when `root` has what config.py reads a site from (site.yaml, a Hugo config file at the root or
    in config/_default/), or a content/ folder of its own."""
    if (root / "site.yaml").is_file() or (root / "content").is_dir():
        return True
    if any((root / name).is_file() for name in HUGO_CONFIGS):
        return True
    defaults = root / "config" / "_default"
    return defaults.is_dir() and any(path.suffix in CONFIG_SUFFIXES and path.is_file() for path in defaults.iterdir())


def require_site(root: Path) -> None:
    """Raise a SiteError saying what is missing unless `root` is a folder that holds a site."""
    start = f"`bitopia new site {_shown(root)}` starts one there"
    if not root.exists():
        raise SiteError(str(root), "no such folder", f"pass a site's folder with -s, or {start}")
    if not root.is_dir():
        raise SiteError(str(root), "is not a folder", "pass a site's folder with -s")
    if not holds_site(root):
        raise SiteError(str(root.resolve()), "holds no site: a site has a site.yaml, a Hugo config (hugo.toml, config.toml, "
                        "config/_default/) or a content/ folder, and this folder has none of them",
                        f"run the command in a site's folder or pass one with -s; {start}")


def _shown(root: Path) -> str:
    """`root` as written in a command line: quoted when it holds a space."""
    text = str(root)
    return f'"{text}"' if " " in text else text
