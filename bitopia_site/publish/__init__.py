"""`bitopia publish`: build for production, check, and swap the whole site in at once.

A target is a folder (`/var/www/blog`: a symlink to one of `/var/www/blog.releases/<build-id>/`)
or a git branch (`git:gh-pages`: one commit per publish); anything like `ssh://host/path` or
`host:path` is refused. Nothing is published unless the build and its check pass; every step logs
one line, and the last line says what is live.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bitopia_site.config import load_config
from bitopia_site.errors import Report, SiteError
from bitopia_site.publish.folder import PAUSE_ENV, FolderTarget
from bitopia_site.publish.gitbranch import GitTarget
from bitopia_site.publish.production import (BUILD_META, Changes, Log, Production, build_checked, build_id_of,
                                             unstamp)

__all__ = ["BUILD_META", "PAUSE_ENV", "Changes", "FolderTarget", "GitTarget", "PublishResult", "Production",
           "build_id_of", "default_target", "live_line", "make_target", "publish", "rollback", "unstamp"]

GIT_PREFIX = "git:"
_SCHEME = re.compile(r"^([^/:]+):")  # ssh://…, s3://…, host:/var/www …


@dataclass(frozen=True)
class PublishResult:
    """What a publish did: the live release (a release name or a commit id), or the changes of a dry run."""

    live: str | None
    changes: Changes | None = None


def default_target(site: Path) -> str:
    """The `publish:` setting of the site's config, or an error saying to give a target."""
    try:
        config = load_config(site, Report())
    except SiteError:
        config = None
    if config is None or not config.publish:
        raise SiteError(site / "site.yaml", "no publish target was given and the config has no `publish:`",
                        "give one: `bitopia publish /var/www/blog` or `bitopia publish git:gh-pages`, or add "
                        "`publish: /var/www/blog` to site.yaml")
    target = config.publish
    _check_form(target)
    if not target.startswith(GIT_PREFIX) and not os.path.isabs(target):
        target = str(config.root / target)  # a relative folder in the config is relative to the site
    return target


def _check_form(target: str) -> None:
    """Refuse a target that is neither a local folder nor `git:BRANCH` (a URL, or a remote `host:path`)."""
    scheme = _SCHEME.match(target)
    if scheme is None or os.path.isabs(target) or (target.startswith(GIT_PREFIX) and not target.startswith("git://")):
        return
    raise SiteError(target, f"publish knows no `{scheme.group(1)}:` targets; it writes to a local folder or a git "
                    "branch", "write a folder (/var/www/blog, ./public) or git:BRANCH (git:gh-pages); a local folder "
                    f"whose name has a colon is written ./{target}")


def make_target(site: Path, target: str, log: Log, remote: str | None = None,
                keep: int = 5) -> FolderTarget | GitTarget:
    """`git:BRANCH` names a branch of the site's repository; a local path is a folder; nothing else is."""
    _check_form(target)
    if target.startswith(GIT_PREFIX):
        return GitTarget(site, target[len(GIT_PREFIX):], log, remote)
    if remote:
        raise SiteError(target, "--remote is for git targets", "write the target as git:BRANCH, or drop --remote")
    return FolderTarget(Path(target), log, keep)


def publish(site: Path, target: str, log: Log, *, dry_run: bool = False, convert: bool = False,
            remote: str | None = None, keep: int = 5, now: datetime | None = None, jobs: int = 0,
            strict: bool = False) -> PublishResult:
    """Build `site` for production, check it, and make it live on `target` (or say what would change).

    Raises BuildFailed when the site does not build or does not pass the check, SiteError when the
    target cannot take it; in both cases the target is as it was.
    """
    where = make_target(site, target, log, remote, keep)
    if isinstance(where, FolderTarget):  # refuse a target that cannot take a release before building
        try:
            where.check_target(convert or dry_run, site)
        except OSError as exc:
            raise _cannot(exc, target) from None
    prod = build_checked(site, log, now, jobs, strict)
    if dry_run:
        changes = where.changes(prod)
        for line in changes.lines():
            log(line)
        if isinstance(where, FolderTarget) and where.kind() in ("folder", "link"):
            log(f"{where.target} is not a symlink to a release yet; publishing it needs --convert")
        log(f"dry run: publishing to {where.describe()} would {changes.summary()}; nothing was changed")
        return PublishResult(None, changes)
    try:
        if isinstance(where, FolderTarget):
            return PublishResult(where.publish(prod, convert))
        return PublishResult(where.publish(prod))
    except OSError as exc:
        raise _cannot(exc, target) from None


def _cannot(exc: OSError, target: str) -> SiteError:
    return SiteError(exc.filename or target, f"cannot publish: {exc.strerror or exc}",
                     "check the permissions and free space of the target's folder; the live release was left as it was")


def live_line(site: Path, target: str) -> str | None:
    """'live: …' for what the target serves now (for the last line after a failure), if that is known."""
    try:
        where = make_target(site, target, lambda line: None)
        if isinstance(where, FolderTarget):
            live = where.live()
            return f"live: {live} ({where.describe()}), as before" if live else None
        commit = where.parent()
        return f"live: {where.branch} at {commit[:12]} in {where.repo}, as before" if commit else None
    except (SiteError, OSError):
        return None


def rollback(site: Path, target: str, log: Log) -> PublishResult:
    """Make the release before the live one live again (folder targets)."""
    _check_form(target)
    if target.startswith(GIT_PREFIX):
        branch = target[len(GIT_PREFIX):]
        raise SiteError(target, "--rollback works on folder targets",
                        f"for a branch, revert its last commit: `git revert --no-edit {branch}` on a checkout of it")
    return PublishResult(FolderTarget(Path(target), log).rollback())
