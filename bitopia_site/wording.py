"""Counts as English writes them, for every line the commands print."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """`1 page`, `2 pages`, `0 pages`: the count and the noun, in the plural unless the count is one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
