"""Regenerate the golden output trees: python tests/regen_golden.py (then review `git diff`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bitopia_site.build import BuildOptions, build  # noqa: E402

GOLDEN_NOW = __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").timezone.utc)
GOLDEN_SITES = ["sample"]
# The library whose exact output the goldens hold (highlighted code); its version is recorded
# beside each golden tree, and the golden test names it when another version is installed.
VERSIONS_FILE = "expected-versions.txt"


def output_versions() -> str:
    """The versions of the libraries whose exact bytes the golden trees hold."""
    from importlib import metadata
    return f"pygments=={metadata.version('pygments')}\n"


def golden_options() -> BuildOptions:
    return BuildOptions(now=GOLDEN_NOW, jobs=1)


def main() -> None:
    for name in GOLDEN_SITES:
        site = HERE / "sites" / name
        expected = site / "expected"
        shutil.rmtree(expected, ignore_errors=True)
        build(site, expected, golden_options())
        (expected / ".bitopia-output").unlink()
        (site / VERSIONS_FILE).write_text(output_versions())
        print(f"wrote {expected.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
