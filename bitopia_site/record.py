"""The record of the last build into an output folder, kept in the cache: what the next build
into that folder starts from.

It names the files the folder holds and each page's fingerprint (a page whose fingerprint did not
change is not rendered again), the inputs it was built from (a build with no input changed writes
nothing), where each document sits in the site and which pages show it (what `scope.reach` needs),
and when time alone changes the site. Builds into one folder take turns through its lock.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from bitopia_site.cache import Cache, code_version, record_key
from bitopia_site.errors import SiteError
from bitopia_site.images import ImageSet
from bitopia_site.model import SiteIndex
from bitopia_site.output_folder import missing_files, output_id
from bitopia_site.sources import InputState, input_state
from bitopia_site.spare import Spare
from bitopia_site.theme import PACKAGED_THEMES

if TYPE_CHECKING:
    from bitopia_site.stages import BuildOptions


class Counts(NamedTuple):
    """What a build made, for its summary line."""

    pages: int
    posts: int
    terms: int
    static: int

    @classmethod
    def of(cls, pages: int, index: SiteIndex, static: int) -> Counts:
        return cls(pages, len(index.posts), sum(len(t.terms) for t in index.taxonomies), static)


@dataclass(frozen=True)
class BuildRecord:
    """What the build `build_id` wrote into its output folder, and from what."""

    build_id: str
    files: frozenset[str]  # every file it wrote, relative to the folder
    fingerprints: dict[str, str]  # page path -> fingerprint of everything the page shows
    counts: Counts
    horizon: float  # when time alone changes the site (a post comes due): the record is stale then
    warnings: tuple[SiteError, ...]
    spare: Spare | None  # what the spare tree beside the folder holds
    state: str | None  # digest of every input file's signature; None: the next build cannot be skipped
    inputs: dict[str, object] | None  # input file -> signature
    placements: dict[str, str]  # document source -> digest of its place in the site
    shown_on: dict[str, tuple[str, ...]]  # document source -> paths of the pages showing it
    static: dict[str, str]  # output path -> the static file copied there
    global_key: str | None  # the fingerprint of what every page shows (config, templates, globals)
    global_uses: frozenset[str]  # documents every page shows, through the site's globals
    images: ImageSet | None = None  # the site's images and their copies (an edited image needs a whole build)

    def describes(self, out: Path) -> bool:
        """True when `out` still holds what this build wrote there: its marker, and every file."""
        return output_id(out) == self.build_id and not missing_files(out, set(self.files))

    def up_to_date(self, state: InputState | None, now: float) -> bool:
        """True when no input changed since, and time alone changes nothing yet: nothing to build."""
        return state is not None and self.state == state.digest and now < self.horizon

    def forget(self, paths: set[str]) -> BuildRecord:
        """This record with `paths` not known (their files changed outside a finished build) and no
        input state, so the next build renders them again and skips nothing."""
        kept = {path: value for path, value in self.fingerprints.items() if path not in paths}
        return replace(self, fingerprints=kept, state=None)


def hold_builds_into(cache: Cache, out: Path) -> int | None:
    """Wait until no other build into `out` runs, then hold its lock until the descriptor is closed."""
    return cache.hold(record_key(out)[0])


def load_record(cache: Cache, out: Path) -> BuildRecord | None:
    """The record of the last build into `out`, or None."""
    found = cache.load(*record_key(out)).get("record")
    return found if isinstance(found, BuildRecord) else None


def save_record(cache: Cache, out: Path, record: BuildRecord) -> None:
    cache.save(*record_key(out), {"record": record})


def drop_record(cache: Cache, out: Path) -> None:
    """Forget the record of `out`: its folder is about to differ from it."""
    cache.drop(record_key(out)[0])


def build_input_state(root: Path, options: BuildOptions) -> InputState | None:
    """Every input file's name, size and time stamps, with the options and the code; None when
    the build cannot be skipped (an unknown post-processor)."""
    process = options.post_process
    if process is not None and "<locals>" in getattr(process, "__qualname__", "<locals>"):
        return None
    key = (code_version(), options.drafts, options.future, options.expired, options.base_url, options.strict,
           getattr(process, "__qualname__", None), options.images)
    state = input_state(root.resolve(), [PACKAGED_THEMES])
    return InputState(f"{key}:{state.digest}", {**state.files, "\0options": repr(key)})


def site_file(root: Path, rel: str) -> str:
    """The key of a site file in the input state: its path below the site's real root."""
    return f"{root}{os.sep}{rel.replace('/', os.sep)}"


def changed_inputs(root: Path, record: BuildRecord, inputs: dict[str, object]) -> list[str] | None:
    """The site files (`content/posts/x.md`) whose signatures changed since the build `record`
    records; None when the set of files changed (a file added, removed or renamed), or a file
    outside the site (a packaged theme's) or the options did."""
    before = record.inputs or {}
    if len(before) != len(inputs):
        return None
    prefix = f"{root}{os.sep}"
    changed = []
    for path, signature in inputs.items():
        if path not in before:
            return None
        if before[path] == signature:
            continue
        if not path.startswith(prefix):
            return None
        changed.append(path[len(prefix):].replace(os.sep, "/"))
    return changed
