"""Rendering the planned pages across processes: each page's bytes (written to the output by
the workers themselves in a first build), its fingerprint, and the cards that list pages share,
made once before the lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generator, Sequence

from bitopia_site import parallel
from bitopia_site.errors import Report, SiteError
from bitopia_site.fingerprint import Fingerprinter
from bitopia_site.model import OutputPage
from bitopia_site.render import Fragments, Renderer
from bitopia_site.stages import BuildOptions
from bitopia_site.writer import SiteWriter, write_page


def stage_progress(options: BuildOptions, stage: str, total: int) -> Callable[[int], None] | None:
    report = options.progress
    return None if report is None else (lambda done: report(stage, done, total))

def take_rendered(todo: list[OutputPage], results: Generator[tuple[Any, Any], None, None], report: Report,
                   output: SiteWriter | dict[str, bytes | None], written: bool
                   ) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Hand each rendered page to `output` (a dict: kept in memory) or to the report; with
    `written`, the renderers wrote the pages themselves. The fingerprint marks, by page path."""
    marks: dict[str, tuple[str, tuple[str, ...]]] = {}
    try:
        for (result, mark), page in zip(results, todo):  # results first: the generator runs even with no pages
            if mark is not None:
                marks[page.path] = mark
            if isinstance(result, SiteError):
                report.error(result)
            elif isinstance(output, dict):
                output[page.path] = result
            elif written:
                if result is not None:  # the error that stopped a renderer writing: stop them all first
                    results.close()
                output.put_written(page.path, result)
            elif not report.errors:
                output.put(page.path, result)
    finally:
        results.close()  # the renderers stop before a failed build removes the staging folder
    return marks

def render_chunk(renderer: Renderer, chunk: Sequence[OutputPage]) -> list[bytes | SiteError]:
    out: list[bytes | SiteError] = []
    for page in chunk:
        try:
            out.append(renderer.render(page))
        except SiteError as err:
            out.append(err)
    return out

def render_chunk_printed(job: tuple[Renderer, Fingerprinter | None, str | None], chunk: Sequence[OutputPage]
                          ) -> list[tuple[Any, tuple[str, tuple[str, ...]] | None]]:
    """`render_chunk`, each page with its fingerprint and uses (see `fingerprints_of`) when a
    fingerprinter is given. With a `folder`, each page's bytes are written there instead of
    returned: None in their place, or the OSError that stopped the writing."""
    renderer, finger, folder = job
    marks = [finger.page_and_uses(page) for page in chunk] if finger is not None else [None] * len(chunk)
    results: list[Any] = render_chunk(renderer, chunk)
    if folder is not None:
        made_dirs: set[str] = set()
        for number, (page, result) in enumerate(zip(chunk, results)):
            if isinstance(result, bytes):
                try:
                    write_page(folder, page.path, result, made_dirs)
                    results[number] = None
                except OSError as err:
                    results[number] = err
    return list(zip(results, marks))

def share_fragments(renderer: Renderer, pages: list[OutputPage], jobs: int,
                     meanwhile: Callable[[], None] | None = None) -> None:
    """Render the fragments that list pages memoize (each post's card) once, across the workers,
    before the pages: a worker rendering lists would otherwise render nearly every card itself.
    `meanwhile()` runs here while the workers make them (at once when there are none to make)."""
    fragments = renderer.env.bitopia_fragments  # type: ignore[attr-defined]
    wanted = _wanted_fragments(renderer, pages) if jobs > 1 else []
    made = parallel.iter_chunks(_fragment_chunk, fragments, wanted, jobs, min_items=400, ahead=len(wanted),
                                meanwhile=meanwhile)
    # Kept as they come: the texts are not all held at once. `made` first: it runs `meanwhile` even with none wanted.
    for fragment, (name, item) in zip(made, wanted):
        if fragment is not None:
            fragments.keep(name, item, fragment)

def _wanted_fragments(renderer: Renderer, pages: list[OutputPage]) -> list[tuple[str, dict[str, Any]]]:
    """The (template, item) of every fragment the list pages memoize, when there are enough lists to
    share them out. The templates are found by rendering the first list page of each kind here."""
    lists = [page for page in pages if isinstance(page.context.get("pager"), dict)]
    if len(lists) < 400:
        return []
    firsts: dict[tuple[tuple[str, ...], Any], OutputPage] = {}
    for page in lists:
        firsts.setdefault((page.templates, page.context.get("kind")), page)
    env = renderer.env
    for page in firsts.values():  # the template alone, not the post-processor: only memo()'s calls matter
        try:
            env.select_template(list(page.templates)).render({**page.context, "url": page.url})
        except Exception:  # noqa: BLE001 - reported when the pages are rendered
            return []
    items = {id(item): item for page in lists for item in page.context["pager"].get("items", ())
             if type(item) is dict}
    return [(name, item) for name in sorted(env.bitopia_fragments.memo_names)  # type: ignore[attr-defined]
            for item in items.values()]

def _fragment_chunk(fragments: Fragments, chunk: Sequence[tuple[str, dict[str, Any]]]) -> list[bytes | None]:
    out: list[bytes | None] = []
    for name, item in chunk:
        try:
            out.append(fragments.make(name, item).encode("utf-8", "surrogatepass"))
        except Exception:  # noqa: BLE001 - the page that shows it reports the template's error
            out.append(None)
    return out

@dataclass
class Prints:
    """Every page's fingerprint, and which documents' views each page shows."""

    values: dict[str, str]
    users: dict[str, list[int]]  # document source -> indexes of the pages showing its view
    global_uses: frozenset[str]  # documents whose views are in the site's globals (on every page)
    finger: Fingerprinter

    def shown_on(self, pages: list[OutputPage]) -> dict[str, tuple[str, ...]]:
        """Document source -> the paths of the pages (of `pages`, as fingerprinted) showing its view."""
        return {source: tuple(pages[n].path for n in numbers) for source, numbers in self.users.items()}

def fingerprints_of(pages: list[OutputPage], made: tuple[Fingerprinter, frozenset[str]], jobs: int) -> Prints:
    """Each page's fingerprint, and which documents' views each page shows."""
    return prints_of(pages, parallel.map_chunks(_fingerprint_chunk, made[0], pages, jobs, min_items=2000), made)

def prints_of(pages: list[OutputPage], marks: Sequence[tuple[str, tuple[str, ...]]],
            made: tuple[Fingerprinter, frozenset[str]]) -> Prints:
    """The Prints of `pages` from each one's (fingerprint, sources of the views it shows)."""
    users: dict[str, list[int]] = {}
    for number, (_, used) in enumerate(marks):
        for source in used:
            users.setdefault(source, []).append(number)
    values = {page.path: value for page, (value, _) in zip(pages, marks)}
    return Prints(values, users, made[1], made[0])

def _fingerprint_chunk(finger: Fingerprinter, chunk: Sequence[OutputPage]) -> list[tuple[str, tuple[str, ...]]]:
    return [finger.page_and_uses(page) for page in chunk]
