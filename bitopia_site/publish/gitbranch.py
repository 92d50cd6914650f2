"""Git target: the site as one commit on a branch, made with git's plumbing.

The files are hashed into the object store (`git hash-object -w`), listed in a temporary index
(GIT_INDEX_FILE, `git update-index`, `git write-tree`), committed with `git commit-tree` on top of the
branch's previous commit, pushed (with a remote), and only then is the branch moved with
`git update-ref`, if nobody moved it meanwhile: a failed push leaves the branch where it was. The
working tree, the real index and the checked-out branch are never touched.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from bitopia_site.errors import SiteError
from bitopia_site.publish.production import Changes, Log, Production, compare

_FALLBACK_IDENT = {"GIT_AUTHOR_NAME": "bitopia", "GIT_AUTHOR_EMAIL": "bitopia@localhost",
                   "GIT_COMMITTER_NAME": "bitopia", "GIT_COMMITTER_EMAIL": "bitopia@localhost"}


class GitTarget:
    """A branch of the git repository that holds the site's folder."""

    def __init__(self, site_root: Path, branch: str, log: Log, remote: str | None = None) -> None:
        self.site_root = site_root
        self.branch = branch
        self.ref = f"refs/heads/{branch}"
        self.remote = remote
        self.log = log
        top = self._git("rev-parse", "--show-toplevel", cwd=site_root, check=False)
        if top.returncode != 0:
            raise SiteError(site_root, "is not inside a git repository, so it has no branch to publish to",
                            "run `git init` there, or publish to a folder")
        self.repo = Path(top.stdout.strip())
        if branch.startswith("-") or self._git("check-ref-format", "--branch", branch, check=False).returncode != 0:
            raise SiteError(f"git:{branch}", f"`{branch}` is not a valid branch name"
                            + (" (it starts with `-`)" if branch.startswith("-") else ""), "write e.g. git:gh-pages")
        if remote is not None and remote.startswith("-"):
            raise SiteError(f"--remote={remote}", "a remote cannot start with `-` (git would take it for an option)",
                            "give the remote's name (e.g. origin) or its URL")

    def describe(self) -> str:
        return f"branch {self.branch} of {self.repo}"

    def publish(self, prod: Production) -> str:
        """Commit the site on the branch (and push it); return the commit's id."""
        self._refuse_checked_out()
        old = self._git("rev-parse", "--verify", "-q", self.ref, check=False).stdout.strip()
        parent = self.parent()
        with tempfile.TemporaryDirectory(prefix="bitopia-publish-") as tmp:
            staging = Path(tmp) / "site"
            paths = self._stage(prod.files, staging)
            self.log(f"staged {len(paths)} files in {staging}")
            shas = self._hash_objects([str(paths[p]) for p in sorted(paths)])
            entries = b"".join(b"100644 " + sha.encode() + b"\t" + p.encode("utf-8") + b"\0"
                               for p, sha in zip(sorted(paths), shas))
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self._git("update-index", "-z", "--add", "--index-info", input=entries, env=env)
            tree = self._git("write-tree", env=env).stdout.strip()
        self.log(f"wrote {len(shas)} files into the object store as tree {tree[:12]}")
        if parent and self._git("rev-parse", f"{parent}^{{tree}}").stdout.strip() == tree:
            self.log(f"nothing to commit: {self.branch} already holds exactly this build")
            commit = parent
        else:
            message = f"bitopia publish {prod.digest[:12]}\n\n{self._source_note()}\n"
            args = ["commit-tree", tree, "-F", "-"] + (["-p", parent] if parent else [])
            commit = self._git(*args, input=message.encode(), env=self._ident()).stdout.strip()
            self.log(f"made commit {commit[:12]}" + (f" (parent {parent[:12]})" if parent else
                                                     " (the branch's first commit)"))
        if self.remote:
            self._push(commit, old)
        if commit != parent:
            moved = self._git("update-ref", "-m", "bitopia publish", self.ref, commit, old or "0" * 40,
                              check=not self.remote)  # once pushed, the site is live whatever the local branch
            self.log(f"moved {self.branch} to {commit[:12]}" if moved.returncode == 0 else
                     f"{self.branch} moved while publishing, so it was left there: {moved.stderr.strip()}")
        where = f" and on {self.remote}" if self.remote else ""
        self.log(f"live: {self.branch} at {commit[:12]} (build {prod.digest[:12]}) in {self.repo}{where}")
        return commit

    def changes(self, prod: Production) -> Changes:
        """What committing `prod` would add, change and remove against the branch's current tree."""
        parent = self.parent()
        old: dict[str, str] = {}
        if parent:
            listing = self._git("ls-tree", "-r", "-z", "--full-tree", parent).stdout
            for entry in listing.split("\0"):
                if entry:
                    meta, path = entry.split("\t", 1)
                    old[path] = meta.split()[2]

        def same(path: str, data: bytes | Path) -> bool:
            raw = data if isinstance(data, bytes) else data.read_bytes()
            return hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest() == old[path]

        return compare(prod.files, old, same)

    # -- steps --------------------------------------------------------------------------------

    def _push(self, commit: str, old: str) -> None:
        """Push `commit` to the remote's branch (a fast-forward only); the local branch is not moved yet."""
        pushed = self._git("push", "--porcelain", "--", self.remote or "", f"{commit}:{self.ref}", check=False)
        if pushed.returncode != 0:
            refused = [line.split("\t")[-1] for line in pushed.stdout.splitlines() if line.startswith("!")]
            why = (refused or pushed.stderr.strip().splitlines()[-1:] or ["?"])[0]
            local = f"left at {old[:12]}" if old else "not created"
            raise SiteError(f"git:{self.branch}", f"pushing to {self.remote} failed: {why}",
                            f"the local branch {self.branch} was {local}; if the remote moved on, take its branch "
                            f"with `git fetch {self.remote} +{self.branch}:{self.branch}` and publish again "
                            f"(files the site lacks, like a CNAME, belong in static/)")
        self.log(f"pushed {self.branch} to {self.remote}")

    def _refuse_checked_out(self) -> None:
        worktrees = self._git("worktree", "list", "--porcelain").stdout.splitlines()
        if f"branch {self.ref}" in worktrees:
            raise SiteError(f"git:{self.branch}", f"the branch {self.branch} is checked out in a working tree",
                            "switch that working tree to another branch, or publish to another branch")

    def parent(self) -> str | None:
        """The branch's commit, else the remote's copy of it, else None (the first publish)."""
        for ref in [self.ref] + ([f"refs/remotes/{self.remote}/{self.branch}"] if self.remote else []):
            found = self._git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False)
            if found.returncode == 0:
                return found.stdout.strip()
        return None

    @staticmethod
    def _stage(files: Mapping[str, bytes | Path], staging: Path) -> dict[str, Path]:
        """Rendered pages written into the staging folder; static files are hashed where they are."""
        paths: dict[str, Path] = {}
        for rel, data in files.items():
            if isinstance(data, Path):
                paths[rel] = data.resolve()
            else:
                dest = staging / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
                paths[rel] = dest
        return paths

    def _hash_objects(self, files: Sequence[str]) -> list[str]:
        """Write each file's bytes as a blob (no filters: the bytes are the site's) and return the ids."""
        plain = [f for f in files if "\n" not in f]
        ids = iter(self._git("hash-object", "-w", "--no-filters", "--stdin-paths",
                             input="".join(f + "\n" for f in plain).encode()).stdout.split()) if plain else iter(())
        return [next(ids) if "\n" not in f else self._git("hash-object", "-w", "--no-filters", "--", f).stdout.strip()
                for f in files]

    def _source_note(self) -> str:
        head = self._git("rev-parse", "-q", "--verify", "HEAD", check=False).stdout.strip()
        if not head:
            return "Built from a repository with no commits yet."
        dirty = self._git("status", "--porcelain", "--untracked-files=no", check=False).stdout.strip()
        return f"Built from {head}" + (" with uncommitted changes." if dirty else ".")

    def _ident(self) -> dict[str, str]:
        """git's own identity if it has one, else a neutral bitopia one (a CI machine often has none)."""
        if self._git("var", "GIT_COMMITTER_IDENT", check=False).returncode == 0 and \
                self._git("var", "GIT_AUTHOR_IDENT", check=False).returncode == 0:
            return {}
        return dict(_FALLBACK_IDENT)

    def _git(self, *args: str, cwd: Path | None = None, input: bytes | None = None,
             env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {}), "GIT_TERMINAL_PROMPT": "0"}
        try:
            done = subprocess.run(["git", *args], cwd=cwd or self.repo, input=input, env=full_env,
                                  capture_output=True)
        except FileNotFoundError:
            raise SiteError(None, "git is not installed", "install git, or publish to a folder") from None
        result = subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8", "replace"),
                                             done.stderr.decode("utf-8", "replace"))
        if check and result.returncode != 0:
            raise SiteError(f"git:{self.branch}" if hasattr(self, "branch") else None,
                            f"`git {args[0]}` failed: {result.stderr.strip() or result.stdout.strip()}",
                            "the branch was not changed")
        return result
