"""The writer's three modes (first build, staged, in place) and the spare tree beside the output; and
that nothing a build starts outlives it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bitopia_site.build import BuildOptions, run_build
from bitopia_site.output_folder import MARKER, output_id
from bitopia_site.spare import Spare, match
from bitopia_site.writer import FirstWriter, InPlaceWriter, StagedWriter, open_writer

REPO = Path(__file__).resolve().parents[1]


def site_of(root: Path, posts: int) -> Path:
    """A site of `posts` posts with tags, and a few static files."""
    (root / "content/posts").mkdir(parents=True)
    (root / "static/img").mkdir(parents=True)
    (root / "site.yaml").write_text("title: Writer\nbase_url: https://example.org/\n")
    for i in range(posts):
        (root / f"content/posts/post-{i:03d}.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2020-{i % 12 + 1:02d}-{i % 28 + 1:02d}\ntags: [t{i % 20}]\n---\n"
            f"Paragraph {i}.\n")
    for i in range(20):
        (root / f"static/img/{i}.png").write_bytes(bytes([i]) * 100)
    return root


def naming(folder: Path) -> list[str]:
    """The command lines of the processes (other than this one) that name `folder` or a path below it."""
    name = os.fsencode(folder)
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            args = Path(f"/proc/{entry.name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(arg == name or arg.startswith(name + b"/") for arg in args):
            found.append(b" ".join(args).decode(errors="replace"))
    return found


def children() -> set[int]:
    """The processes whose parent is this one."""
    found = set()
    for entry in os.scandir("/proc"):
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        if stat and int(stat[stat.rfind(b")") + 2:].split()[1]) == os.getpid():
            found.add(int(entry.name))
    return found


def test_nothing_a_first_build_starts_outlives_it(tmp_path: Path) -> None:
    """`bitopia build -o out && rm -rf SITE` works: when the command returns, every process it
    started has ended, and nothing writes beside the output any more."""
    site = site_of(tmp_path / "site", 300)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    before = children()  # a session's fixtures may keep processes of their own
    done = subprocess.run([sys.executable, "-m", "bitopia_site", "build", "-s", str(site), "-o",
                           str(site / "output"), "-j", "2", "-q"], env=env, capture_output=True, timeout=300)
    left = naming(site)
    shutil.rmtree(site)  # raises "Directory not empty" if something still writes there
    assert done.returncode == 0, done.stderr.decode()
    assert left == [] and children() <= before
    time.sleep(0.2)
    assert not site.exists() and naming(site) == []


def test_nothing_build_into_starts_outlives_it(tmp_path: Path) -> None:
    """The same in Python: when `run_build` returns, its rendering processes and its static copier
    have ended, and nothing is left beside the output; after the next build, whose child process
    linked its staging folder, nothing but the spare tree."""
    site = site_of(tmp_path / "site", 450)  # enough posts for a process pool
    before = children()
    run_build(site, tmp_path / "out", BuildOptions(jobs=2))
    assert children() <= before and naming(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "site"]
    (site / "templates").mkdir(exist_ok=True)
    (site / "templates" / "404.html").write_text("gone")  # a change every page does not show
    run_build(site, tmp_path / "out", BuildOptions(jobs=2))
    assert children() <= before and naming(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.spare", "out", "site"]
    assert (tmp_path / "out" / "404.html").read_text() == "gone"


# --- the modes, one by one ----------------------------------------------------------------------

def tree(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file below `folder`: its inode and bytes."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def first_build(out: Path, pages: dict[str, bytes], static: dict[str, Path]):
    writer = open_writer(out)
    assert isinstance(writer, FirstWriter)
    for rel, data in pages.items():
        writer.put(rel, data)
    return writer, writer.finish(static)


def test_a_first_build_writes_the_output_and_nothing_beside_it(tmp_path: Path) -> None:
    (tmp_path / "style.css").write_text("a {}")
    writer, stats = first_build(tmp_path / "out", {"index.html": b"home", "a/b/index.html": b"b"},
                                {"css/style.css": tmp_path / "style.css"})
    out = tmp_path / "out"
    assert stats.written == 3 and output_id(out) == stats.build_id
    assert set(tree(out)) == {"index.html", "a/b/index.html", "css/style.css", MARKER}
    assert writer.spare_after is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "style.css"]


def staged_build(out: Path, files: set[str], spare: Spare | None, pages: dict[str, bytes | None]) -> StagedWriter:
    writer = open_writer(out, files, spare)
    assert isinstance(writer, StagedWriter)
    for rel, data in pages.items():
        writer.put(rel, data)
    writer.finish({})
    return writer


def test_a_spare_left_by_a_deleted_output_is_matched_by_the_next_staged_build(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first_build(out, {"index.html": b"old", "gone/index.html": b"gone"}, {})
    staged_build(out, {"index.html", "gone/index.html"}, None, {"index.html": b"old 2", "gone/index.html": None})
    shutil.rmtree(out)  # by hand; the spare stays
    first_build(out, {"index.html": b"new", "new/index.html": b"n"}, {})
    assert (tmp_path / ".out.spare/gone/index.html").exists()  # left for the next build to match
    staged_build(out, {"index.html", "new/index.html"}, None, {"index.html": b"new 2", "new/index.html": None})
    assert {rel: data for rel, (_, data) in tree(out).items() if rel != MARKER} == \
        {"index.html": b"new 2", "new/index.html": b"n"}
    assert set(tree(tmp_path / ".out.spare")) == {"index.html", "new/index.html", MARKER}


def test_a_staged_build_changes_only_what_differs_and_keeps_the_old_output_as_the_spare(tmp_path: Path) -> None:
    out = tmp_path / "out"
    writer, first = first_build(out, {"index.html": b"home", "a/index.html": b"a", "b/index.html": b"b"}, {})
    before = tree(out)
    files = {"index.html", "a/index.html", "b/index.html"}
    staged = open_writer(out, files, writer.spare_after)
    assert isinstance(staged, StagedWriter)
    staged.put("index.html", None)
    staged.put("a/index.html", b"a")  # the same bytes
    staged.put("c/index.html", b"c")
    stats = staged.finish({})
    after = tree(out)
    assert (stats.written, stats.unchanged, stats.removed) == (1, 2, 1)
    assert after["index.html"] == before["index.html"] and after["a/index.html"] == before["a/index.html"]
    assert "b/index.html" not in after and after["c/index.html"][1] == b"c"
    assert tree(tmp_path / ".out.spare") == before  # the old output, whole
    assert staged.spare_after == Spare(first.build_id, frozenset({"c/index.html", "b/index.html"}))
    again = open_writer(out, files - {"b/index.html"} | {"c/index.html"}, staged.spare_after)
    again.put("index.html", b"home 2")
    again.finish({})
    assert tree(tmp_path / ".out.spare") == after  # patched from the spare, then kept in turn


def test_a_staged_build_that_changes_nothing_touches_nothing(tmp_path: Path) -> None:
    """Not the output: the copy of it its child process linked meanwhile is kept as the spare."""
    out = tmp_path / "out"
    writer, first = first_build(out, {"index.html": b"home"}, {})
    before = tree(out)
    staged = open_writer(out, {"index.html"}, writer.spare_after)
    staged.put("index.html", b"home")
    assert staged.finish({}).build_id == first.build_id
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) in (["out"], [".out.spare", "out"])


def test_a_spare_the_record_does_not_describe_is_matched_not_trusted(tmp_path: Path) -> None:
    """After a build in place the record says nothing of the spare: the next staged build matches
    the spare with the output file by file, and the output it makes is the site, not the spare's."""
    out = tmp_path / "out"
    first_build(out, {"index.html": b"home", "a/index.html": b"a"}, {})
    staged_build(out, {"index.html", "a/index.html"}, None, {"index.html": b"home 1", "a/index.html": b"a"})
    in_place = open_writer(out, {"index.html", "a/index.html"}, in_place=True)
    assert isinstance(in_place, InPlaceWriter)
    in_place.put("a/index.html", b"a 2")
    in_place.put("index.html", b"home")
    in_place.finish({})
    assert in_place.spare_after is None
    assert (tmp_path / ".out.spare/a/index.html").read_bytes() == b"a"  # replaced by a rename, not written through
    staged = open_writer(out, {"index.html", "a/index.html"}, in_place.spare_after)
    staged.put("index.html", b"home 2")
    staged.put("a/index.html", None)
    staged.finish({})
    assert {rel: data for rel, (_, data) in tree(out).items() if rel != MARKER} == \
        {"index.html": b"home 2", "a/index.html": b"a 2"}


def test_a_failed_staged_build_leaves_the_output_and_no_staging_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    writer, _ = first_build(out, {"index.html": b"home"}, {})
    before = tree(out)
    staged = open_writer(out, {"index.html"}, writer.spare_after)
    staged.put("index.html", b"changed")
    staged.abort()
    assert tree(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_build_that_fails_before_it_writes_keeps_the_linked_copy_as_an_untrusted_spare(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first_build(out, {"index.html": b"home", "a/index.html": b"a"}, {})
    before = tree(out)
    staged = open_writer(out, {"index.html", "a/index.html"}, None)
    assert isinstance(staged, StagedWriter)
    staged.maker.folder()  # made (the child waited for), as in a build that then fails before it writes
    (tmp_path / ".out.staging/a/index.html").unlink()
    (tmp_path / ".out.staging/a/index.html").write_bytes(b"not the output's")
    staged.abort()
    assert tree(out) == before and sorted(p.name for p in tmp_path.iterdir()) == [".out.spare", "out"]
    staged_build(out, {"index.html", "a/index.html"}, None, {"index.html": b"home 2", "a/index.html": None})
    assert tree(out)["a/index.html"] == before["a/index.html"]


def test_match_makes_a_tree_hold_exactly_the_files_each_linked_to_the_output(tmp_path: Path) -> None:
    out, spare = tmp_path / "out", tmp_path / "spare"
    for rel, data in {"same": "s", "other": "o", "x/y/z": "z", "dir": "d"}.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(data)
    (spare / "x/y").mkdir(parents=True)
    (spare / "empty/inner").mkdir(parents=True)
    (spare / "dir/below").mkdir(parents=True)  # a folder where the output has a file
    (spare / "dir/below/file").write_text("old")
    os.link(out / "same", spare / "same")
    (spare / "other").write_text("o")  # the same bytes, another file
    (spare / "extra").write_text("e")
    match(spare, out, {"same", "other", "x/y/z", "dir"})
    assert {rel: ino for rel, (ino, _) in tree(spare).items()} == {rel: ino for rel, (ino, _) in tree(out).items()}
    assert sorted(p.relative_to(spare).as_posix() for p in spare.rglob("*")) == ["dir", "other", "same", "x", "x/y",
                                                                                "x/y/z"]
