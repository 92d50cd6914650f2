"""Faults: a build killed at any moment, a full disk, a read-only output. The output folder is
always whole: the previous tree byte for byte, or (when the swap already happened) the new one."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from bitopia_site.cli import main
from conftest import REPO

MARKER = ".bitopia-output"
POSTS = 200


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def without_marker_id(files: dict[str, bytes]) -> dict[str, bytes]:
    """The tree with the marker's build id (random per build) left out; the marker must be whole."""
    marker = files[MARKER].decode()
    assert re.fullmatch(r"made by bitopia; replaced whole on every build\n[0-9a-f]{32}\n", marker), marker
    return {**files, MARKER: b""}


def medium_site(root: Path, title: str) -> Path:
    """A site of a few hundred posts with tags and categories: a build takes a second or two."""
    (root / "content/posts").mkdir(parents=True)
    (root / "site.yaml").write_text(f"title: {title}\nbase_url: https://example.org/\n")
    for i in range(POSTS):
        (root / f"content/posts/post-{i:03d}.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2020-{i % 12 + 1:02d}-{i % 28 + 1:02d}\ntags: [t{i % 20}, common]\n"
            f"categories: [c{i % 5}]\n---\n"
            + f"Paragraph {i} with *some* text and a [link](https://example.org/).\n\n" * 8)
    return root


def run_build(site: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "bitopia_site", "build", "-s", str(site), "-o", str(out), "-j", "2",
                             "-q"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def finished_build(site: Path, out: Path) -> float:
    started = time.monotonic()
    proc = run_build(site, out)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr.decode()
    assert b"Traceback" not in stdout + stderr
    return time.monotonic() - started


def test_sigkill_at_random_moments_leaves_a_whole_output(tmp_path: Path) -> None:
    site = medium_site(tmp_path / "site", "Alpha site")
    out = tmp_path / "output"
    titles = ["Alpha site", "Beta"]  # two states of the site, different in every page
    seconds = finished_build(site, out)
    reference = {titles[0]: without_marker_id(tree(out))}
    (site / "site.yaml").write_text(f"title: {titles[1]}\nbase_url: https://example.org/\n")
    seconds = max(seconds, finished_build(site, out))
    reference[titles[1]] = without_marker_id(tree(out))
    assert reference[titles[0]].keys() == reference[titles[1]].keys()
    assert reference[titles[0]]["index.html"] != reference[titles[1]]["index.html"]
    current, before = titles[1], tree(out)
    rng = random.Random(int(os.environ.get("BITOPIA_KILL_SEED", "20260101")))
    outcomes = {"old": 0, "new": 0}
    for attempt in range(20):
        target = titles[1 - titles.index(current)]
        (site / "site.yaml").write_text(f"title: {target}\nbase_url: https://example.org/\n")
        proc = run_build(site, out)
        time.sleep(rng.uniform(0.05, seconds * 1.1))
        os.killpg(proc.pid, signal.SIGKILL)  # the build and its worker processes, like a power cut
        proc.communicate(timeout=30)
        after = tree(out)
        if after == before:
            outcomes["old"] += 1
        else:
            assert without_marker_id(after) == reference[target], f"attempt {attempt}: a torn output folder"
            outcomes["new"] += 1
            current, before = target, after
    assert outcomes["old"] >= 3, outcomes  # the kills did land during builds
    # The next build that changes the site is clean: a whole tree, no staging or old trees left behind.
    (site / "site.yaml").write_text("title: Gamma\nbase_url: https://example.org/\n")
    finished_build(site, out)
    after = without_marker_id(tree(out))
    assert after.keys() == reference[titles[0]].keys()
    titled = [path for path, data in reference[titles[0]].items() if data != reference[titles[1]][path]]
    assert len(titled) > POSTS and all(b"Gamma" in after[path] for path in titled if path != MARKER)
    # beside the output only the tree before it, which the next build patches into its staging folder
    assert sorted(p.name for p in tmp_path.iterdir()) == [".output.spare", "output", "site"]


def test_staging_folder_of_a_killed_build_is_removed_by_the_next_build(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    out = tmp_path / "output"
    assert cli(site, out)[0] == 0
    stage = tmp_path / ".output.staging"  # what a build killed while writing leaves
    (stage / "2020/01/01/hello").mkdir(parents=True)
    (stage / "2020/01/01/hello/index.html").write_text("half a page")
    assert cli(site, out)[0] == 0
    assert not stage.exists()


@pytest.fixture
def small_mount(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs mounted at tmp_path/disk (needs root, as CI runs); skipped where mounting is refused."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def small_site(root: Path, big: int = 0) -> Path:
    (root / "content/posts").mkdir(parents=True)
    (root / "site.yaml").write_text("title: Small\nbase_url: https://example.org/\n")
    (root / "content/posts/hello.md").write_text("---\ntitle: Hello\ndate: 2020-01-01\n---\nHello.\n")
    if big:
        (root / "static").mkdir()
        (root / "static/big.bin").write_bytes(os.urandom(big))
    return root


def cli(site: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["build", "-s", str(site), "-o", str(out)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


def assert_write_fails(site: Path, out: Path, reason: str, before: dict[str, bytes]) -> None:
    """The build exits 1 naming the output folder and `reason`, and the output is as it was."""
    code, output = cli(site, out)
    assert code == 1
    assert f"error: {out}: cannot write the site: {reason} — free some disk space or fix the " \
           "folder's permissions; the previous output is untouched" in output
    assert tree(out) == before


def test_full_disk_fails_clearly_and_keeps_the_old_output(small_mount: Path, tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    out = small_mount / "output"
    assert cli(site, out)[0] == 0
    before = tree(out)
    (site / "static").mkdir()
    (site / "static/big.bin").write_bytes(os.urandom(3 * 1024 * 1024))  # more than the disk holds
    (site / "content/posts/hello.md").write_text("---\ntitle: Hello again\ndate: 2020-01-01\n---\nChanged.\n")
    assert_write_fails(site, out, "No space left on device", before)
    assert sorted(p.name for p in small_mount.iterdir()) == ["output"], "the staging folder was left on the disk"
    (site / "static/big.bin").unlink()  # room again: the next build works
    assert cli(site, out)[0] == 0
    assert "Hello again" in (out / "2020/01/01/hello/index.html").read_text()


def test_first_build_that_fills_the_disk_leaves_nothing_behind(small_mount: Path, tmp_path: Path) -> None:
    """A first build copies static files while it renders; a copy that fails still fails the build
    clearly, and neither an output nor a staging folder is left."""
    site = small_site(tmp_path / "site", big=3 * 1024 * 1024)
    out = small_mount / "output"
    code, output = cli(site, out)
    assert code == 1 and f"error: {out}: cannot write the site: No space left on device" in output
    assert list(small_mount.iterdir()) == []
    (site / "static/big.bin").write_bytes(b"small now")
    assert cli(site, out)[0] == 0
    assert (out / "big.bin").read_bytes() == b"small now"


def test_first_build_whose_pages_fill_the_disk_leaves_nothing_behind(small_mount: Path, tmp_path: Path) -> None:
    """In a first build the rendering processes write the pages themselves: a page they cannot
    write fails the build as clearly as one the main process cannot."""
    site = small_site(tmp_path / "site")
    paragraph = "A migrated paragraph of the old blog, long enough to fill a small disk soon. " * 100
    for n in range(450):
        (site / f"content/posts/p{n:03d}.md").write_text(f"---\ntitle: Post {n}\ndate: 2020-01-01\n---\n{paragraph}\n")
    out = small_mount / "output"
    code, output = cli(site, out)
    assert code == 1 and f"error: {out}: cannot write the site: No space left on device" in output
    assert list(small_mount.iterdir()) == []


@pytest.mark.parametrize("python", ["/bin/false", "/no/such/python"])
def test_first_build_whose_static_copier_cannot_run_copies_in_the_end(
        python: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The early static copy runs the copier script in a new interpreter. One that ends without a
    word (here: a program that is not Python) or cannot be started only loses the head start:
    finish() copies every static file itself, and none of the copier's copies is trusted."""
    site = small_site(tmp_path / "site", big=64 * 1024)
    for n in range(50):
        (site / "static" / f"f{n}.txt").write_text(f"file {n}")
    monkeypatch.setattr(sys, "executable", python)
    out = tmp_path / "output"
    assert cli(site, out)[0] == 0
    assert (out / "big.bin").read_bytes() == (site / "static/big.bin").read_bytes()
    assert all((out / f"f{n}.txt").read_text() == f"file {n}" for n in range(50))


def test_first_build_with_a_broken_post_leaves_nothing_behind(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site", big=64 * 1024)
    for n in range(300):
        (site / "static" / f"f{n}.txt").write_text(f"file {n}")
    (site / "content/posts/broken.md").write_text("---\ntitle: [unclosed\n---\nBody.\n")
    out = tmp_path / "output"
    code, output = cli(site, out)
    assert code == 1 and "content/posts/broken.md" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_read_only_output_fails_clearly(small_mount: Path, tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    out = small_mount / "output"
    assert cli(site, out)[0] == 0
    before = tree(out)
    done = subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot remount read-only: {done.stderr.strip()}")
    (site / "content/posts/hello.md").write_text("---\ntitle: Changed\ndate: 2020-01-01\n---\nChanged.\n")
    assert_write_fails(site, out, "Read-only file system", before)


def test_immutable_output_parent_fails_clearly(tmp_path: Path) -> None:
    """Root ignores permission bits, so the parent is made immutable (chattr +i) instead."""
    site = small_site(tmp_path / "site")
    parent = tmp_path / "public"
    out = parent / "output"
    assert cli(site, out)[0] == 0
    before = tree(out)
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(parent)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"chattr +i is refused here: {done.stderr.strip()}")
    else:
        parent.chmod(0o555)
    try:
        (site / "content/posts/hello.md").write_text("---\ntitle: Changed\ndate: 2020-01-01\n---\nChanged.\n")
        code, output = cli(site, out)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(parent)], check=False)
        else:
            parent.chmod(0o755)
    assert code == 1
    assert f"error: {out}: cannot write the site: " in output
    assert "Operation not permitted" in output or "Permission denied" in output
    assert tree(out) == before
    assert sorted(p.name for p in parent.iterdir()) == ["output"]


def test_output_below_a_file_is_a_clear_error(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    out = tmp_path / "notes.txt" / "output"
    code, output = cli(site, out)
    assert code == 1 and output.startswith("error: ") and str(tmp_path / "notes.txt") in output
    assert (tmp_path / "notes.txt").read_text() == "a file, not a folder"


def test_output_parent_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode != 0:
            pytest.skip("chattr +i is refused here")
    else:
        locked.chmod(0o555)
    try:
        code, output = cli(site, locked / "new" / "output")
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(locked)], check=False)
        else:
            locked.chmod(0o755)
    assert code == 1 and output.startswith("error: ") and str(locked) in output
