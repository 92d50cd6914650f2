"""The search index of a site the dev server shows: made off the reload path, after the site is
in place. Pagefind makes an index whole (some seconds for a big site), so it runs on its own
thread after a build or an edit, and its files are put in the served folder once made; an edit
made meanwhile asks for a newer one. A preview's index never holds a draft either."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from bitopia_site import search
from bitopia_site.cache import machine_key
from bitopia_site.stages import RenderedSite
from bitopia_site.swap import prune, same_copy
from bitopia_site.writer import InPlaceWriter

ENTRY = f"{search.FOLDER}/pagefind-entry.json"  # names the index's other files: Pagefind's script reads it first


class LiveSearch:
    """The index the served folder `out` holds, kept in `home` (not the builds' own cache folder:
    a preview's index holds future posts, a build's does not, and each would make the other's again)."""

    def __init__(self, out: Path, home: Path) -> None:
        self.out = out
        self.home = home
        self.placed: str | None = None  # the digest of the records of the index in `out`
        self.files: dict[str, Path] = {}  # its files, by output path

    def forget(self) -> None:
        """A whole build may have pruned the folder of what it did not write, the index with it."""
        self.placed = None

    def job(self, site: RenderedSite | None) -> Callable[[], Callable[[], None] | None] | None:
        """For the site as it is now: the work of making its index (run it off the build lock),
        which returns the step that puts the index in place (run that under the lock, if no build
        came since), or None when the folder holds it already; None when the site has no search."""
        if site is None or not site.config.search:
            return None
        config = site.config
        # the documents as edited (a body edit changes site.documents, not the index's own tuple);
        # frozen, so the records are made from them off the lock
        documents = [site.documents.get(doc.source, doc) for doc in site.index.documents]

        def make() -> Callable[[], None] | None:
            records = search.records_of(documents, config.base_path, config.language)
            wanted = search.digest(records)
            if wanted == self.placed:
                return None
            files = search.site_index(records, self.home, machine_key(), config.source_file or "site.yaml",
                                      background=True)

            def place() -> None:
                self._place(files)
                self.placed = wanted
            return place
        return make

    def _place(self, files: dict[str, Path]) -> None:
        """Put an index's files in the served folder while it is served: those not there already
        first, then the entry file (each replaced by one rename), then the old index's files
        removed. A reader sees the old index or the new one."""
        writer = InPlaceWriter(self.out)
        for rel in sorted(files, key=lambda rel: rel == ENTRY):
            if not same_copy(self.out / rel, files[rel]):
                writer.put_file(rel, files[rel])
        for rel in self.files.keys() - files.keys():
            prune(self.out, rel)
        self.files = files
