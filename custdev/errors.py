"""Typed errors. The CLI prints ``Error: <message>`` and exits 1 for any CustdevError."""

from __future__ import annotations


class CustdevError(Exception):
    """A problem the user can fix. Its message is one line and never contains interview text."""


class BaseNotFound(CustdevError):
    pass


class ConfigError(CustdevError):
    pass


class ParseError(CustdevError):
    """A bad interview file. ``path`` and ``line`` point at the problem."""

    def __init__(self, path: str, line: int | None, message: str):
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class SearchError(CustdevError):
    pass


class UnknownSlug(CustdevError):
    pass
