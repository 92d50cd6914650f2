"""The installed package is complete: a wheel carries every subpackage and the default theme."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO


def test_wheel_has_every_package_and_the_default_theme(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(tmp_path), str(REPO)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    names = set(zipfile.ZipFile(next(tmp_path.glob("*.whl"))).namelist())
    packages = {p.parent.relative_to(REPO).as_posix() for p in (REPO / "bitopia_site").rglob("__init__.py")
                if "themes" not in p.parts}
    for package in packages:
        assert f"{package}/__init__.py" in names, f"{package} is missing from the wheel"
    theme = REPO / "themes" / "bitopia"
    for path in theme.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert f"bitopia_site/themes/bitopia/{path.relative_to(theme).as_posix()}" in names
    assert "bitopia_site/serve/livereload.js" in names
