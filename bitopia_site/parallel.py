"""Run a function over chunks of work on several processes (fork), or inline for small jobs."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Sequence

_SHARED: Any = None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def map_chunks(func: Callable[[Any, Sequence[Any]], list[Any]], shared: Any, items: Sequence[Any],
               jobs: int, min_items: int = 200) -> list[Any]:
    """`func(shared, chunk)` over chunks of `items`, results in order.

    `shared` reaches the workers through fork, not pickling, so it may be large.
    """
    if jobs <= 1 or len(items) < min_items or "fork" not in multiprocessing.get_all_start_methods():
        return func(shared, items)
    global _SHARED
    _SHARED = (func, shared, items)
    chunk = max(1, -(-len(items) // (jobs * 4)))
    bounds = [(i, min(i + chunk, len(items))) for i in range(0, len(items), chunk)]
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            results: list[Any] = []
            for part in pool.map(_run, bounds):
                results.extend(part)
            return results
    finally:
        _SHARED = None


def _run(bounds: tuple[int, int]) -> list[Any]:
    func, shared, items = _SHARED
    return func(shared, items[bounds[0]:bounds[1]])
