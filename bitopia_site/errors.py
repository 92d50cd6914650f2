"""The one error type users see, and the report that collects them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class SiteError(Exception):
    """A problem in the site a user can fix: where it is, what is wrong, what to do."""

    def __init__(self, path: str | Path | None, message: str, hint: str = "",
                 line: int | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.message = message
        self.hint = hint
        super().__init__(self.format())

    def format(self) -> str:
        """`path:line: message — hint`, leaving out what is not known."""
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        text = f"{where}{self.message}"
        return f"{text} — {self.hint}" if self.hint else text

    def __reduce__(self):  # picklable across worker processes
        return (SiteError, (self.path, self.message, self.hint, self.line))


class BuildFailed(Exception):
    """A build stopped by one or more SiteErrors; nothing was written."""

    def __init__(self, errors: list[SiteError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.path or "", e.line or 0, e.message))
        super().__init__("\n".join(e.format() for e in self.errors))

    def __reduce__(self):
        return (BuildFailed, (self.errors,))


@dataclass
class Report:
    """Errors and warnings gathered while building; warnings may be made errors by --strict."""

    errors: list[SiteError] = field(default_factory=list)
    warnings: list[SiteError] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set, repr=False)

    def error(self, err: SiteError) -> None:
        self.errors.append(err)

    def warn(self, warning: SiteError) -> None:
        """Keep a warning once, however often it is raised."""
        text = warning.format()
        if text not in self._seen:
            self._seen.add(text)
            self.warnings.append(warning)

    def failed(self, strict: bool = False) -> bool:
        """True when there are errors (or warnings, when strict)."""
        return bool(self.errors or (strict and self.warnings))

    def raise_if_failed(self, strict: bool = False) -> None:
        """Raise BuildFailed when there are errors (or warnings, when strict)."""
        if self.failed(strict):
            raise BuildFailed(list(self.errors) + (self.warnings if strict else []))
