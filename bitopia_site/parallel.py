"""Run a function over chunks of work on several processes (fork), or inline for small jobs."""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Generator, Iterator, Sequence

_SHARED: Any = None


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Run without the cycle collector: a build makes millions of objects that live until it ends,
    and the collector's passes over them cost more than the little cyclic garbage they would free.
    Workers collect their own objects (see `_start_worker`). Usable as a decorator."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _start_worker() -> None:
    """In a forked worker: never collect (and so never write to) the objects it shares with the
    parent, which keeps those pages shared; collect the worker's own."""
    gc.freeze()
    gc.enable()


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def map_chunks(func: Callable[[Any, Sequence[Any]], list[Any]], shared: Any, items: Sequence[Any],
               jobs: int, min_items: int = 200, progress: Callable[[int], None] | None = None) -> list[Any]:
    """`func(shared, chunk)` over chunks of `items`, results in order, as one list."""
    return list(iter_chunks(func, shared, items, jobs, min_items, progress))


def iter_chunks(func: Callable[[Any, Sequence[Any]], list[Any]], shared: Any, items: Sequence[Any],
                jobs: int, min_items: int = 200, progress: Callable[[int], None] | None = None,
                ahead: int = 0, meanwhile: Callable[[], None] | None = None) -> Generator[Any, None, None]:
    """`func(shared, chunk)` over chunks of `items`, yielding results in order as chunks finish;
    `progress(done)` after each chunk. `shared` reaches workers through fork, not pickling. At most
    `ahead` chunks (default: two a process) are handed out before the oldest one's results are taken:
    more when the results are small. `meanwhile()` runs here once the first chunks are handed out."""
    parallel = jobs > 1 and len(items) >= min_items and "fork" in multiprocessing.get_all_start_methods()
    chunk = max(1, -(-len(items) // (jobs * 32 if parallel else 16)))
    bounds = [(i, min(i + chunk, len(items))) for i in range(0, len(items), chunk)]
    if not parallel:
        if meanwhile is not None:
            meanwhile()
        for start, end in bounds:
            yield from func(shared, items[start:end])
            if progress:
                progress(end)
        return
    global _SHARED
    _SHARED = (func, shared, items)
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_start_worker) as pool:
            # A few chunks in flight, not all: finished chunks wait in this process until their turn,
            # and a whole site's rendered pages must not pile up here while one slow chunk runs.
            pending: deque[tuple[int, Future[list[Any]]]] = deque()
            todo = iter(bounds)
            for start, end in itertools.islice(todo, ahead or jobs * 2):
                pending.append((end, pool.submit(_run, (start, end))))
            try:
                if meanwhile is not None:
                    meanwhile()
                while pending:
                    end, future = pending.popleft()
                    part = future.result()
                    for start, next_end in itertools.islice(todo, 1):
                        pending.append((next_end, pool.submit(_run, (start, next_end))))
                    yield from part
                    if progress:
                        progress(end)
            finally:  # stopped early (closed, or a chunk failed): the chunks not started never run
                for _, future in pending:
                    future.cancel()
    finally:
        _SHARED = None


def _run(bounds: tuple[int, int]) -> list[Any]:
    func, shared, items = _SHARED
    return func(shared, items[bounds[0]:bounds[1]])
