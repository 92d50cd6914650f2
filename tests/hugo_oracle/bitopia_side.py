"""bitopia's side of the comparison: build a copy of the blog as it is, with the probe templates of
`bitopia_probe/` as its site-level `templates/`, and read back every file written.

A failed build (errors, a traceback, a timeout) is a result, not an exception.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROBE_TEMPLATES = HERE / "bitopia_probe"
TIMEOUT = 600


@dataclass
class BitopiaResult:
    """What bitopia made of one blog: its exit code and messages, and every file it wrote."""

    returncode: int
    errors: list[str]  # the `error: ...` lines, the site's folder left out
    traceback: str  # the last lines of a Python traceback, if bitopia crashed
    seconds: float
    files: list[str] = field(default_factory=list)  # relative to the output folder
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # file -> the probe's record
    aliases: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.traceback


def build(source: Path, jobs: int = 2) -> BitopiaResult:
    """Build a scratch copy of the blog at `source` with `bitopia build` and read what it wrote."""
    with tempfile.TemporaryDirectory(prefix="bitopia-oracle-") as scratch:
        site, out = Path(scratch) / "site", Path(scratch) / "out"
        shutil.copytree(source, site, ignore=lambda folder, names: {".corpus"} & set(names)
                        if Path(folder) == source else set())
        for path in [site, *site.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o200)
        shutil.copytree(PROBE_TEMPLATES, site / "templates", dirs_exist_ok=True)
        command = [sys.executable, "-m", "bitopia_site", "build", "-s", str(site), "-o", str(out),
                   "-j", str(jobs), "--no-cache", "--no-images", "-q"]  # image sizes are the theme's, not Markdown
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        started = time.monotonic()
        try:
            done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return BitopiaResult(-1, [f"timed out after {TIMEOUT} s"], "", TIMEOUT)
        seconds = round(time.monotonic() - started, 2)
        log = (done.stdout + "\n" + done.stderr).replace(str(site) + os.sep, "").replace(str(site), ".")
        errors = [line for line in log.splitlines() if line.startswith("error:")]
        trace = ""
        if "Traceback (most recent call last)" in log:
            trace = "\n".join(log[log.index("Traceback (most recent call last)"):].strip().splitlines()[-6:])
        result = BitopiaResult(done.returncode, errors, trace, seconds)
        if out.is_dir():
            _read_output(out, result)
        return result


_REFRESH = re.compile(rb'http-equiv="refresh"', re.I)


def _read_output(out: Path, result: BitopiaResult) -> None:
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        result.files.append(rel)
        if path.suffix != ".html":
            continue
        data = path.read_bytes()
        if data.startswith(b"{"):
            try:
                result.records[rel] = json.loads(data)
            except ValueError:
                pass
        elif len(data) < 2000 and _REFRESH.search(data):
            result.aliases.append(rel)
