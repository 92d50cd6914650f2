"""`bitopia publish git:BRANCH`: the site as one commit on a branch, made without touching the checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from bitopia_site.build import add_search_index, render_site
from bitopia_site.check import production_options
from bitopia_site.cli import main
from bitopia_site.errors import SiteError
from bitopia_site.publish import publish

IDENT = ["-c", "user.name=Writer", "-c", "user.email=writer@example.org"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *IDENT, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(bundled_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The site in a git repository with a commit, an edit and an untracked file, and a bare 'origin'."""
    monkeypatch.setenv("HOME", str(tmp_path))  # no global git identity: publish must cope without one
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    git(bundled_site, "init", "-q", "-b", "main")
    git(bundled_site, "add", ".")
    git(bundled_site, "commit", "-q", "-m", "the site")
    (bundled_site / "notes.txt").write_text("untracked\n")
    config = bundled_site / "site.yaml"
    config.write_text(config.read_text() + "# an uncommitted edit\n")
    git(bundled_site, "add", "site.yaml")  # staged in the real index
    (bundled_site / "content" / "pages" / "about.md").write_text(
        (bundled_site / "content" / "pages" / "about.md").read_text() + "\nAn unstaged edit.\n")
    remote = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(bundled_site, "remote", "add", "origin", str(remote))
    return bundled_site


def state(repo: Path) -> tuple[str, str, str, bytes, list[str]]:
    """Everything publish must leave alone: status, HEAD, branch, the index file, the working tree."""
    files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*")
                   if ".git" not in p.parts and ".bitopia-cache" not in p.parts)  # the build's own cache
    return (git(repo, "status", "--porcelain"), git(repo, "rev-parse", "HEAD"),
            git(repo, "symbolic-ref", "HEAD"), (repo / ".git" / "index").read_bytes(), files)


def site_files(repo: Path) -> dict[str, bytes]:
    built = render_site(repo, production_options(jobs=1))
    add_search_index(built, production_options(jobs=1), repo / ".bitopia-cache" / "search")
    return {**{p: s.read_bytes() for p, s in built.static.items()}, **built.rendered}


def test_the_branch_holds_exactly_the_site_and_the_checkout_is_untouched(repo: Path, tmp_path: Path) -> None:
    before = state(repo)
    result = CliRunner().invoke(main, ["publish", "-s", str(repo), "git:gh-pages", "--remote", "origin"])
    assert result.exit_code == 0, result.output
    assert state(repo) == before
    expected = site_files(repo)
    remote = tmp_path / "origin.git"
    listed = git(remote, "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert listed == sorted(expected)
    for path in ("index.html", "css/bitopia.css", "img/2014/08/live_deployment_bitopia.jpg", "sitemap.xml"):
        shown = subprocess.run(["git", "show", f"gh-pages:{path}"], cwd=remote, capture_output=True, check=True)
        assert shown.stdout == expected[path], path
    commit = git(repo, "rev-parse", "gh-pages").strip()
    assert git(remote, "rev-parse", "gh-pages").strip() == commit
    assert git(repo, "rev-list", "--count", "gh-pages").strip() == "1"
    message = git(repo, "log", "-1", "--format=%an <%ae>%n%B", "gh-pages")
    assert message.startswith("bitopia <bitopia@localhost>\nbitopia publish ")
    assert f"Built from {before[1].strip()} with uncommitted changes." in message
    lines = result.output.splitlines()
    assert lines[-1].startswith(f"live: gh-pages at {commit[:12]} (build ") and lines[-1].endswith(" and on origin")
    assert "pushed gh-pages to origin" in lines


def test_the_next_publish_is_a_child_commit_and_dry_run_lists_the_changes(repo: Path) -> None:
    log: list[str] = []
    first = publish(repo, "git:gh-pages", log.append, jobs=1).live
    assert first is not None
    unchanged = publish(repo, "git:gh-pages", log.append, jobs=1).live
    assert unchanged == first and "nothing to commit: gh-pages already holds exactly this build" in log

    about = repo / "content" / "pages" / "about.md"
    about.write_text(about.read_text().replace("url: /about/", "url: /who/"))
    config = repo / "site.yaml"
    config.write_text(config.read_text().replace("url: /about/", "url: /who/"))
    before = state(repo)
    log.clear()
    dry = publish(repo, "git:gh-pages", log.append, dry_run=True, jobs=1)
    assert dry.live is None and dry.changes is not None
    assert [p for p in dry.changes.added if not p.startswith("pagefind/")] == ["who/index.html"]
    assert [p for p in dry.changes.removed if not p.startswith("pagefind/")] == ["about/index.html"]
    assert "index.html" in dry.changes.changed and "css/bitopia.css" not in dry.changes.changed
    assert git(repo, "rev-parse", "gh-pages").strip() == first
    assert log[-1].startswith("dry run: publishing to branch gh-pages of ")

    second = publish(repo, "git:gh-pages", log.append, jobs=1).live
    assert second is not None and second != first
    assert git(repo, "rev-parse", f"{second}^").strip() == first
    listed = git(repo, "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert "who/index.html" in listed and "about/index.html" not in listed
    assert listed == sorted(site_files(repo))
    assert state(repo) == before


def test_a_branch_that_is_checked_out_is_refused(repo: Path) -> None:
    git(repo, "branch", "gh-pages")
    git(repo, "stash", "-q")
    git(repo, "checkout", "-q", "gh-pages")
    before = git(repo, "rev-parse", "gh-pages")
    with pytest.raises(SiteError, match="is checked out in a working tree"):
        publish(repo, "git:gh-pages", lambda line: None, jobs=1)
    assert git(repo, "rev-parse", "gh-pages") == before


def test_a_site_outside_git_and_bad_branch_names(bundled_site: Path, tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="is not inside a git repository"):
        publish(bundled_site, "git:gh-pages", lambda line: None, jobs=1)
    git(bundled_site, "init", "-q")
    with pytest.raises(SiteError, match="is not a valid branch name"):
        publish(bundled_site, "git:bad..name", lambda line: None, jobs=1)


def test_a_rejected_push_says_what_to_do(repo: Path, tmp_path: Path) -> None:
    publish(repo, "git:gh-pages", lambda line: None, remote="origin", jobs=1)
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", "-b", "gh-pages", str(tmp_path / "origin.git"), str(other)], check=True)
    (other / "CNAME").write_text("blog.example.org\n")
    git(other, "add", "CNAME")
    git(other, "commit", "-q", "-m", "someone else's commit")
    git(other, "push", "-q", "origin", "gh-pages")
    about = repo / "content" / "pages" / "about.md"
    about.write_text(about.read_text() + "\nMore.\n")
    with pytest.raises(SiteError) as failed:
        publish(repo, "git:gh-pages", lambda line: None, remote="origin", jobs=1)
    assert "pushing to origin failed" in failed.value.message
    assert "`git fetch origin +gh-pages:gh-pages`" in failed.value.hint
    git(repo, "fetch", "-q", "origin", "+gh-pages:gh-pages")  # what the hint says
    theirs = git(repo, "rev-parse", "gh-pages").strip()
    ours = publish(repo, "git:gh-pages", lambda line: None, remote="origin", jobs=1).live
    assert git(tmp_path / "origin.git", "rev-parse", "gh-pages").strip() == ours
    assert git(repo, "rev-parse", f"{ours}^").strip() == theirs


def test_options_in_place_of_a_remote_or_branch_are_refused(repo: Path, tmp_path: Path) -> None:
    before = state(repo)
    planted = tmp_path / "planted"
    for args, message in (([f"--remote=--receive-pack=touch {planted}", "git:gh-pages"],
                           f"error: --remote=--receive-pack=touch {planted}: a remote cannot start with `-`"),
                          (["--remote", "-oops", "git:gh-pages"], "error: --remote=-oops: a remote cannot start"),
                          (["--", "git:--upload-pack=x"], "error: git:--upload-pack=x: `--upload-pack=x` is not a "
                           "valid branch name (it starts with `-`)")):
        result = CliRunner().invoke(main, ["publish", "-s", str(repo), "-j", "1", *args])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert message in result.output, result.output
        assert "nothing was published" in result.output
    assert not planted.exists()
    assert git(repo, "branch", "--list").split() == ["*", "main"]
    assert state(repo) == before


def refuse_pushes(remote: Path) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are closed' >&2\nexit 1\n")
    hook.chmod(0o755)


def test_a_failed_push_leaves_the_local_branch_where_it_was(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "origin.git"
    refuse_pushes(remote)
    with pytest.raises(SiteError) as failed:
        publish(repo, "git:gh-pages", lambda line: None, remote="origin", jobs=1)
    assert git(repo, "branch", "--list", "gh-pages") == ""
    assert failed.value.message == "pushing to origin failed: [remote rejected] (pre-receive hook declined)"
    assert failed.value.hint.startswith("the local branch gh-pages was not created;")

    (remote / "hooks" / "pre-receive").unlink()
    first = publish(repo, "git:gh-pages", lambda line: None, remote="origin", jobs=1).live
    assert first is not None
    refuse_pushes(remote)
    about = repo / "content" / "pages" / "about.md"
    about.write_text(about.read_text() + "\nMore.\n")
    result = CliRunner().invoke(main, ["publish", "-s", str(repo), "-j", "1", "--remote", "origin", "git:gh-pages"])
    assert result.exit_code == 1, result.output
    assert git(repo, "rev-parse", "gh-pages").strip() == first
    assert git(remote, "rev-parse", "gh-pages").strip() == first
    assert f"the local branch gh-pages was left at {first[:12]};" in result.output
    assert result.output.splitlines()[-1] == f"live: gh-pages at {first[:12]} in {repo}, as before"
