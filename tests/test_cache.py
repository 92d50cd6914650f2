"""The cache runs no code that came with a site: every file in `.bitopia-cache/` is signed with a
key kept outside the site, and one not signed on this machine is discarded before it is read.

A cache file is a pickle (or Jinja's compiled template), and reading one can run any code. Here a
site arrives with a cache made elsewhere whose files, once unpickled, would create a marker file;
`build`, `check` and `publish` must never create it, must still build, and say so once.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner, Result

from bitopia_site.cache import CACHE_DIR, KEY_DIR_ENV, Cache, SignedBytecodeCache, machine_key, read_signed, record_key
from bitopia_site.cli import main
from bitopia_site.errors import Report
from conftest import REPO, SITES, copy_site

FOREIGN = "a cache not made on this machine was discarded"


class Touch:
    """Unpickled, creates `marker`: what a hostile cache file would do (with a shell command)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.touch, (self.marker,))


def build_elsewhere(site: Path, out: Path, key_folder: Path) -> None:
    """Build `site` as another machine would (another key): its cache holds every file a build makes."""
    env = {**os.environ, KEY_DIR_ENV: str(key_folder), "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "bitopia_site", "build", "-s", str(site), "-o", str(out), "-q"],
                   env=env, check=True)


def cache_files(site: Path) -> list[Path]:
    folder = site / CACHE_DIR
    return sorted([*folder.glob("*.pickle"), *(folder / "templates").glob("*.cache")])


def poison(path: Path, marker: Path) -> None:
    """Make the cache file at `path` create `marker` when it is read (a compiled template: when Jinja
    reads the checksum it pickles after its magic)."""
    payload = pickle.dumps(Touch(marker))
    path.write_bytes(jinja2.bccache.bc_magic + payload if path.suffix == ".cache" else payload)


@pytest.fixture
def hostile_site(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A site, its output folder, and a marker: the site's cache came from another machine and every
    file in it runs code."""
    site = copy_site(SITES / "sample", tmp_path / "site")
    out = tmp_path / "out"
    build_elsewhere(site, out, tmp_path / "other-machine")
    files = cache_files(site)
    names = {path.name for path in files}
    assert {"documents-01.pickle", f"{record_key(out.resolve())[0]}.pickle"} <= names
    assert any(path.suffix == ".cache" for path in files)  # compiled templates
    marker = tmp_path / "marker"
    for path in files:
        poison(path, marker)
    return site, out, marker


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def warnings_about_cache(output: str) -> list[str]:
    return [line for line in output.splitlines() if FOREIGN in line]


def test_build_reads_no_cache_made_elsewhere(hostile_site: tuple[Path, Path, Path]) -> None:
    site, out, marker = hostile_site
    result = run("build", "-s", str(site), "-o", str(out))
    assert not marker.exists()
    assert result.exit_code == 0, result.output
    assert warnings_about_cache(result.output) == [
        f"warning: {CACHE_DIR}/: {FOREIGN} unread — nothing to do: it is made again; keep {CACHE_DIR}/ out of "
        f"the repository (a CI that keeps it between runs must keep the key, in ${KEY_DIR_ENV}, too)"]
    assert "(3 posts, 5 terms; 48 rendered)" in result.output
    again = run("build", "-s", str(site), "-o", str(out))
    assert not marker.exists() and warnings_about_cache(again.output) == []
    assert "; 0 rendered)" in again.output  # the cache made in its place is this machine's, and used


def test_check_reads_no_cache_made_elsewhere(hostile_site: tuple[Path, Path, Path]) -> None:
    site, _, marker = hostile_site
    result = run("check", "-s", str(site))
    assert not marker.exists()
    assert result.exit_code == 0, result.output
    assert len(warnings_about_cache(result.output)) == 1 and "no problems" in result.output


def test_publish_reads_no_cache_made_elsewhere(hostile_site: tuple[Path, Path, Path], tmp_path: Path) -> None:
    site, _, marker = hostile_site
    target = tmp_path / "public"
    result = run("publish", "-s", str(site), "-j", "1", str(target))
    assert not marker.exists()
    assert result.exit_code == 0, result.output
    assert "(1 warning)" in result.output and (target / "index.html").is_file()


@pytest.mark.parametrize("kind", ["documents", "output", "templates"])
def test_each_kind_of_cache_file_alone_is_discarded(hostile_site: tuple[Path, Path, Path], kind: str) -> None:
    """The document shards, the record of the output, or the compiled templates: any one of them
    from elsewhere (the rest absent) is caught before it is read."""
    site, out, marker = hostile_site
    for path in cache_files(site):
        if not (path.name.startswith(kind) or (kind == "templates" and path.suffix == ".cache")):
            path.unlink()
    result = run("build", "-s", str(site), "-o", str(out))
    assert not marker.exists()
    assert result.exit_code == 0 and len(warnings_about_cache(result.output)) == 1, result.output


def test_a_cache_made_here_is_read_again_untouched(tmp_path: Path) -> None:
    """The cache this machine made is trusted: a second check parses and compiles nothing, so it
    rewrites no cache file, and says nothing about the cache."""
    site = copy_site(SITES / "sample", tmp_path / "site")
    assert run("check", "-s", str(site)).exit_code == 0
    before = {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in cache_files(site)}
    assert any(path.suffix == ".cache" for path in before) and any(path.suffix == ".pickle" for path in before)
    again = run("check", "-s", str(site))
    assert again.exit_code == 0 and warnings_about_cache(again.output) == []
    assert {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in cache_files(site)} == before


def test_only_files_named_as_the_cache_names_them_are_deleted(hostile_site: tuple[Path, Path, Path]) -> None:
    """`.bitopia-cache/` may be a link to a folder of other things: a foreign cache is discarded by
    deleting only files with the cache's own names."""
    site, out, marker = hostile_site
    kept = [site / CACHE_DIR / "notes.txt", site / CACHE_DIR / "templates" / "notes.txt"]
    for path in kept:
        path.write_text("mine")
    assert run("build", "-s", str(site), "-o", str(out)).exit_code == 0
    assert all(path.read_text() == "mine" for path in kept) and not marker.exists()


# --- the signed files and the key ----------------------------------------------------------------

@pytest.fixture
def key_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A key folder of this test's own (the process's key is remembered: forgotten here and after)."""
    folder = tmp_path / "keys"
    monkeypatch.setenv(KEY_DIR_ENV, str(folder))
    machine_key.cache_clear()
    yield folder
    monkeypatch.undo()
    machine_key.cache_clear()


def test_the_key_is_made_once_private_and_kept(key_folder: Path) -> None:
    key = machine_key()
    assert key is not None and len(key) == 32
    assert (key_folder / "key").stat().st_mode & 0o777 == 0o600 and key_folder.stat().st_mode & 0o777 == 0o700
    machine_key.cache_clear()
    assert machine_key() == key and [p.name for p in key_folder.iterdir()] == ["key"]


def _key_in_a_new_process(_: int) -> str | None:
    machine_key.cache_clear()
    key = machine_key()
    return key.hex() if key else None


def test_processes_making_the_key_at_once_agree_on_one(key_folder: Path) -> None:
    with multiprocessing.get_context("fork").Pool(8) as pool:
        keys = pool.map(_key_in_a_new_process, range(32), chunksize=1)
    assert None not in keys and len(set(keys)) == 1
    assert (key_folder / "key").read_bytes().hex() == keys[0] and [p.name for p in key_folder.iterdir()] == ["key"]


def test_a_damaged_key_is_replaced(key_folder: Path) -> None:
    key_folder.mkdir()
    (key_folder / "key").write_bytes(b"short")
    key = machine_key()
    assert key is not None and len(key) == 32 and (key_folder / "key").read_bytes() == key


def test_without_a_place_for_the_key_nothing_is_cached(key_folder: Path, tmp_path: Path) -> None:
    """A home that cannot be written (here: the key folder's parent is a file) means no cache, no crash."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    os.environ[KEY_DIR_ENV] = str(blocker / "keys")
    machine_key.cache_clear()
    assert machine_key() is None
    site = copy_site(SITES / "sample", tmp_path / "site")
    for _ in range(2):
        result = run("build", "-s", str(site), "-o", str(tmp_path / "out"))
        assert result.exit_code == 0 and "48 rendered" in result.output, result.output
    assert cache_files(site) == []


def test_a_file_signed_here_is_read_only_under_its_own_name(key_folder: Path, tmp_path: Path) -> None:
    key = machine_key()
    assert key is not None
    cache = Cache(tmp_path, Report())
    cache.save("documents-01", "s", {"a": 1})
    assert cache.load("documents-01", "s") == {"a": 1} and cache.report.warnings == []
    folder = tmp_path / CACHE_DIR
    (folder / "documents-02.pickle").write_bytes((folder / "documents-01.pickle").read_bytes())
    assert read_signed(folder / "documents-02.pickle", key) is None
    data = bytearray((folder / "documents-01.pickle").read_bytes())
    data[-2] ^= 1  # one bit of the payload
    (folder / "documents-01.pickle").write_bytes(bytes(data))
    assert cache.load("documents-01", "s") == {} and len(cache.report.warnings) == 1
    assert not (folder / "documents-01.pickle").exists() and not (folder / "documents-02.pickle").exists()


def test_a_fifo_in_the_cache_does_not_hang_the_build(key_folder: Path, tmp_path: Path) -> None:
    key = machine_key()
    assert key is not None
    fifo = tmp_path / "documents-00.pickle"
    os.mkfifo(fifo)
    found: list[object] = []
    reader = threading.Thread(target=lambda: found.append(read_signed(fifo, key)), daemon=True)
    reader.start()
    reader.join(5)
    assert found == [None]


def test_compiled_templates_from_elsewhere_are_compiled_again(key_folder: Path, tmp_path: Path) -> None:
    key = machine_key()
    assert key is not None
    loader = jinja2.DictLoader({"t.html": "{{ 1 + 1 }}"})
    theirs = jinja2.Environment(loader=loader, bytecode_cache=SignedBytecodeCache(tmp_path, "__x_", b"k" * 32))
    assert theirs.get_template("t.html").render() == "2"
    [made] = list(tmp_path.glob("__x_*.cache"))
    ours = jinja2.Environment(loader=loader, bytecode_cache=SignedBytecodeCache(tmp_path, "__x_", key))
    assert ours.bytecode_cache.get_bucket(ours, "t.html", None, "{{ 1 + 1 }}").code is None
    assert ours.get_template("t.html").render() == "2"  # compiled again, and signed here
    assert read_signed(made, key) is not None
    assert ours.bytecode_cache.get_bucket(ours, "t.html", None, "{{ 1 + 1 }}").code is not None


def test_the_record_of_an_output_is_signed_under_its_name(key_folder: Path, tmp_path: Path) -> None:
    """What the build into one folder recorded cannot stand in for another folder's record."""
    cache = Cache(tmp_path, Report())
    first, second = record_key(tmp_path / "a"), record_key(tmp_path / "b")
    cache.save(*first, {"build_id": "x"})
    folder = tmp_path / CACHE_DIR
    (folder / f"{second[0]}.pickle").write_bytes((folder / f"{first[0]}.pickle").read_bytes())
    assert cache.load(*second) == {} and cache.load(*first) == {"build_id": "x"}
