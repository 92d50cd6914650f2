"""Markdown files -> documents: unchanged ones from the document cache, the rest parsed in parallel.

A cold build parses every file, so each cache shard is made whole by one parse worker, which saves
it too: the cache is written on every core while parsing goes on, not by the parent afterwards.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from bitopia_site import parallel
from bitopia_site.cache import DocumentCache
from bitopia_site.content import ContentSettings, Parsed, parse, source_digest
from bitopia_site.copier import read_ahead
from bitopia_site.errors import Report, SiteError
from bitopia_site.model import Document, Source
from bitopia_site.sources import Signature, SiteFiles, read_markdown


@dataclass(frozen=True)
class _Job:
    """What every parse worker shares (through fork)."""

    settings: ContentSettings
    root: Path
    cache: DocumentCache
    whole: frozenset[int]  # the cache shards whose every entry is parsed now: their workers save them
    digests: dict[str, str]  # the digest of each Source read already
    signatures: dict[str, Signature]


def parse_all(root: Path, files: SiteFiles, settings: ContentSettings, report: Report, jobs: int,
              cache: DocumentCache, progress: Callable[[int], None] | None = None) -> list[Document]:
    """Every Markdown file's document, in path order: unchanged ones from the cache, the rest
    parsed in parallel (the files not read yet are read there); problems go to the report."""
    results: dict[str, Parsed] = {}
    for path in files.unchanged:
        cached = cache.get(path, None)
        if cached is None:  # listed as unchanged from this very cache: cannot happen, but never guess
            raise RuntimeError(f"{path}: missing from the document cache")
        results[path] = cached
    digests = {s.path: source_digest(s, settings) for s in files.sources}
    missing = []
    for source in files.sources:
        cached = cache.get(source.path, digests[source.path])
        if cached is None:
            missing.append(source)
        else:
            results[source.path] = cached
    whole = cache.whole_shards(map(_path, [*missing, *files.unread]), results)
    work, bounds = _chunks([*missing, *files.unread], whole, jobs)
    job = _Job(settings, root, cache, whole, digests, files.signatures)
    unreadable: dict[str, SiteError] = {}
    outcomes = parallel.map_chunks(_parse_chunk, job, work, jobs, progress=progress, bounds=bounds)
    for (start, end), (shard, parts) in zip(bounds, outcomes):
        if shard is not None:  # saved by its worker: every entry, and the files that could not be read
            results.update((path, entry[1]) for path, entry in cache.adopt(cache.shard(_path(work[start])),
                                                                            shard).items())
            unreadable.update((path, err) for path, err in parts if err is not None)
            continue
        for item, part in zip(work[start:end], parts):
            if isinstance(item, Source):
                results[item.path] = part
                continue
            read, digest, signature = part
            if isinstance(read, SiteError):
                unreadable[item] = read
            elif read is not None:  # None: gone since it was listed
                results[item] = read
                cache.put(item, digest, read, signature)
    for source in files.sources:
        cache.put(source.path, digests[source.path], results[source.path], files.signatures.get(source.path))
    for path in files.unread:
        if path in unreadable:
            report.error(unreadable[path])  # cannot be read: as read_site reports it
    cache.keep_only(set(results))
    cache.save()
    documents = []
    for path in sorted(results):
        parsed = results[path]
        for err in parsed.errors:
            report.error(err)
        for warning in parsed.warnings:
            report.warn(warning)
        if parsed.document is not None:
            documents.append(parsed.document)
    return documents


def _path(item: Source | str) -> str:
    return item.path if isinstance(item, Source) else item


def _chunks(work: list[Source | str], whole: frozenset[int], jobs: int
            ) -> tuple[list[Source | str], list[tuple[int, int]]]:
    """The work in the order it is parsed, and its chunks: each whole shard one chunk of its own,
    the rest in slices of about the same size."""
    size = max(1, -(-len(work) // (max(jobs, 1) * 32)))
    groups: dict[int, list[Source | str]] = defaultdict(list)
    rest = []
    for item in work:
        number = DocumentCache.shard(_path(item))
        (groups[number] if number in whole else rest).append(item)
    ordered: list[Source | str] = []
    bounds = []
    for part in [*(groups[number] for number in sorted(groups)),
                 *(rest[i:i + size] for i in range(0, len(rest), size))]:
        bounds.append((len(ordered), len(ordered) + len(part)))
        ordered += part
    return ordered, bounds


def _parse_chunk(job: _Job, chunk: Sequence[Source | str]) -> list[tuple[bytes | None, list[Any]]]:
    """Parse a chunk: one (None, results) with a result for each item, a Parsed for a Source and, for
    a path of `files.unread`, (Parsed, the text's digest, the file's signature), or (the error that
    kept it from being read, or None when gone, "", None). A chunk that is a whole shard comes back
    as (the shard, saved, as bytes, the [(path, error)] of the files that could not be read)."""
    root_real = os.path.realpath(job.root)
    read_ahead(os.path.join(job.root, item) for item in chunk if not isinstance(item, Source))
    out: list[Any] = []
    for item in chunk:
        if isinstance(item, Source):
            out.append(parse(item, job.settings))
            continue
        read, signature = read_markdown(job.root, item, root_real)
        if isinstance(read, Source):
            parsed = parse(read, job.settings)
            digest = parsed.document.digest if parsed.document is not None else source_digest(read, job.settings)
            out.append((parsed, digest, signature))
        else:
            out.append((read, "", None))
    number = DocumentCache.shard(_path(chunk[0])) if chunk else -1
    if number not in job.whole:
        return [(None, out)]
    entries: dict[str, Any] = {}
    unreadable = []
    for item, part in zip(chunk, out):
        if isinstance(item, Source):
            entries[item.path] = (job.digests[item.path], part, job.signatures.get(item.path))
        elif isinstance(part[0], Parsed):
            entries[item] = (part[1], part[0], part[2])
        else:
            unreadable.append((item, part[0]))
    return [(job.cache.encode_shard(number, entries), unreadable)]
