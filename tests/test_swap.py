"""The file-system steps the writer and publish share (swap.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bitopia_site import swap


def folder(path: Path, name: str) -> Path:
    path.mkdir(parents=True)
    (path / "name").write_text(name)
    return path


def test_swap_in_exchanges_the_two_trees(tmp_path: Path) -> None:
    new, target, aside = folder(tmp_path / "new", "new"), folder(tmp_path / "target", "old"), tmp_path / "aside"
    old = swap.swap_in(new, target, aside)
    assert (target / "name").read_text() == "new" and old is not None and (old / "name").read_text() == "old"
    assert swap.swap_in(folder(tmp_path / "newer", "newer"), tmp_path / "missing", aside) is None
    assert (tmp_path / "missing/name").read_text() == "newer"


def test_swap_in_without_an_exchange_moves_the_old_tree_aside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(swap, "exchange", lambda a, b: False)
    new, target, aside = folder(tmp_path / "new", "new"), folder(tmp_path / "target", "old"), tmp_path / "aside"
    assert swap.swap_in(new, target, aside) == aside
    assert (target / "name").read_text() == "new" and (aside / "name").read_text() == "old"


def test_swap_in_without_an_exchange_puts_the_old_tree_back_when_the_new_cannot_move(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(swap, "exchange", lambda a, b: False)
    target, aside = folder(tmp_path / "target", "old"), tmp_path / "aside"
    with pytest.raises(FileNotFoundError):
        swap.swap_in(tmp_path / "no-such-tree", target, aside)
    assert (target / "name").read_text() == "old" and not aside.exists()


def test_same_copy_sees_a_source_rewritten_with_its_old_size_and_mtime(tmp_path: Path) -> None:
    source, copy = tmp_path / "source.css", tmp_path / "copy.css"
    source.write_text("a { color: red; }\n")
    shutil.copy2(source, copy)
    assert swap.same_copy(copy, source)
    old = source.stat()
    source.write_text("a { color: tan; }\n")
    os.utime(source, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert not swap.same_copy(copy, source)
    assert not swap.same_copy(tmp_path / "missing", source)


def test_prune_removes_the_folders_a_file_leaves_empty_up_to_the_root(tmp_path: Path) -> None:
    (tmp_path / "root/a/b").mkdir(parents=True)
    (tmp_path / "root/a/b/file").write_text("x")
    (tmp_path / "root/a/other").write_text("y")
    swap.prune(tmp_path / "root", "a/b/file")
    swap.prune(tmp_path / "root", "a/b/not-there")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["root", "root/a", "root/a/other"]


def test_remove_takes_files_links_and_folders_and_ignores_what_is_not_there(tmp_path: Path) -> None:
    folder(tmp_path / "tree/inner", "x")
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "tree")
    for name in ("link", "tree", "file", "missing"):
        swap.remove(tmp_path / name)
    assert list(tmp_path.iterdir()) == []
