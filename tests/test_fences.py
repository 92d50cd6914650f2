"""The private parts of jinja2, markupsafe and cmarkgfm are used only in the versions covered."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bitopia_site import fences


@pytest.mark.parametrize(("version", "inside"), [
    ("3.1.2", True), ("3.1.6", True), ("3.1.99", True), ("3.1.1", False), ("3.2.0", False), ("3.2.0rc1", False),
    ("4.0", False),
])
def test_a_version_is_covered_only_inside_its_range(version: str, inside: bool) -> None:
    low, high = fences.RANGES["jinja2"]
    assert (fences._numbers(low) <= fences._numbers(version) < fences._numbers(high)) is inside


def test_the_installed_versions_are_the_covered_ones() -> None:
    """What pyproject.toml and constraints.txt install is what the speed tricks were tested on."""
    for library in fences.RANGES:
        assert fences.covered(library), f"{library} {fences.installed(library)}"


SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from bitopia_site import fences
    if sys.argv[3] == "uncovered":
        fences.installed = lambda library: "0.0.1"
    import markupsafe
    from bitopia_site import cmark, codegen
    from bitopia_site.build import BuildOptions, build
    assert (codegen.escape_text is markupsafe.escape) == (sys.argv[3] == "uncovered")
    assert (cmark._NATIVE is None) == (sys.argv[3] == "uncovered")
    build(Path(sys.argv[1]), Path(sys.argv[2]), BuildOptions(jobs=1, cache=False))
""")


def _build(site: Path, out: Path, mode: str) -> str:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(site), str(out), mode],
                          capture_output=True, text=True, check=True)
    return done.stderr


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != ".bitopia-output"}


def test_an_uncovered_library_takes_its_public_path_with_one_warning(tmp_path: Path) -> None:
    """With every fenced library reported out of range, the sample site builds to the same bytes
    through the public APIs, and each library is named in one warning."""
    site = Path(__file__).parent / "sites" / "sample"
    assert _build(site, tmp_path / "covered", "covered") == ""
    warnings = _build(site, tmp_path / "uncovered", "uncovered")
    for library in fences.RANGES:
        assert warnings.count(f"warning: {library} 0.0.1 is outside the range") == 1, warnings
    assert _files(tmp_path / "uncovered") == _files(tmp_path / "covered")
