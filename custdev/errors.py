"""Typed errors. The CLI prints ``Error: <message>`` and exits 1 for any CustdevError."""

from __future__ import annotations


class CustdevError(Exception):
    """A problem the user can fix. Its message is one line and never contains interview text.

    ``CustdevError(N_("{root} has no database yet; run 'custdev build' first"), root=path)``: a message the catalogs
    translate, its fields filled in after; ``str()`` is the English, :meth:`localized` the base's language."""

    def __init__(self, *args, **params):
        self.template = args[0] if len(args) == 1 and isinstance(args[0], str) else None
        self.params = params
        if params and self.template is not None:
            args = (self.template.format(**params),)
        super().__init__(*args)

    def localized(self, translator) -> str:
        """The message through ``translator`` (a :class:`custdev.i18n.Translator`): the same text where the catalogs
        have no translation."""
        if self.template is None:
            return str(self)
        text = translator.gettext(self.template)
        return text.format(**self.params) if self.params else text


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
