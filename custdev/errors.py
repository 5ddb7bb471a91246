"""Typed errors. The CLI prints ``Error: <message>`` and exits 1 for any CustdevError."""

from __future__ import annotations


def localize(value, translator) -> str:
    """``value`` in ``translator``'s language where it knows how (a :class:`Message` or a :class:`CustdevError`),
    else its ``str()``."""
    loc = getattr(value, "localized", None)
    return loc(translator) if callable(loc) else str(value)


def _fill(text: str, params: dict, translator=None) -> str:
    """``text`` with its ``{fields}``; a field that is itself a message or an error is localized too."""
    if not params:
        return text
    if translator is not None:
        params = {k: (localize(v, translator) if callable(getattr(v, "localized", None)) else
                      _Fraction(v, translator.language) if isinstance(v, float) else v) for k, v in params.items()}
    return text.format(**params)


class _Fraction:
    """A float in a localized message: ``{duration:.1f}`` writes 12,5 in Russian (12.5 in English)."""

    def __init__(self, value: float, language: str):
        self.value, self.language = value, language

    def __format__(self, spec: str) -> str:
        import re

        from custdev.i18n import decimal

        m = re.fullmatch(r",?\.(\d+)f", spec)
        if m is None or self.language == "en":
            return format(self.value, spec)  # English as it always was
        return decimal(self.value, self.language, int(m.group(1)), fixed=True)

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:  # {value!r}
        return repr(self.value)


def os_reason(exc: BaseException) -> "str | Message":
    """Why the operating system refused (an OSError's strerror) as a message: said in the base's language for the
    usual reasons (no such file, no permission, disk full, read-only, not a folder…), as the system says it otherwise."""
    import errno

    from custdev.i18n import N_

    reasons = {errno.ENOENT: N_("no such file or folder"), errno.EACCES: N_("no permission"), errno.EPERM: N_("no permission"),
               errno.ENOSPC: N_("no space left on the disk"), errno.EROFS: N_("the file system is read-only"),
               errno.ENOTDIR: N_("not a folder"), errno.EISDIR: N_("a folder, not a file"), errno.EEXIST: N_("already exists"),
               errno.ENOTEMPTY: N_("the folder is not empty"), errno.EADDRINUSE: N_("the address is already in use")}
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    reason = reasons.get(getattr(exc, "errno", None))
    return SystemReason(reason, text) if reason else text


class Message(str):
    """A message the catalogs translate, its fields filled in: ``str`` is the English text (logs, JSON, tests),
    :meth:`localized` the base's language. Kept in lists of messages (a build's bad files) and across processes."""

    template: str
    params: dict

    def __new__(cls, template: str, **params):
        self = super().__new__(cls, _fill(template, params))
        self.template = template
        self.params = params
        return self

    def __reduce__(self):
        return (_message, (self.template, self.params))

    def localized(self, translator) -> str:
        if not self.template:
            return ""  # gettext("") is the catalog's header
        return _fill(translator.gettext(self.template), self.params, translator)


def _message(template: str, params: dict) -> Message:
    return Message(template, **params)


class Counted(Message):
    """A message about ``count`` things: ``Counted(NP_("{n} quote", "{n} quotes"), n, n=n)``; the catalogs' plural
    forms pick the words (1 цитата, 2 цитаты, 5 цитат)."""

    def __new__(cls, pair: tuple[str, str], count: int, **params):
        self = super().__new__(cls, pair[0] if count == 1 else pair[1], **params)
        self.pair, self.count = pair, count
        return self

    def __reduce__(self):
        return (_counted, (self.pair, self.count, self.params))

    def localized(self, translator) -> str:
        return _fill(translator.ngettext(self.pair[0], self.pair[1], self.count), self.params, translator)


def _counted(pair: tuple[str, str], count: int, params: dict) -> Counted:
    return Counted(pair, count, **params)


class Number(int):
    """A count inside a message: ``1,234`` in the English text, the language's own grouping where localized (1 234)."""

    def __format__(self, spec: str) -> str:
        return format(int(self), spec or ",")

    def __reduce__(self):
        return (Number, (int(self),))

    def localized(self, translator) -> str:
        from custdev.i18n import decimal

        return decimal(int(self), translator.language, 0)


class Joined(str):
    """Messages joined by ``sep`` (``"; ".join(reasons)``), each localized where the whole is."""

    def __new__(cls, sep: str, items):
        items = list(items)
        self = super().__new__(cls, sep.join(str(x) for x in items))
        self.sep, self.items = sep, items
        return self

    def __reduce__(self):
        return (Joined, (self.sep, self.items))

    def localized(self, translator) -> str:
        return self.sep.join(localize(x, translator) for x in self.items)


class CustdevError(Exception):
    """A problem the user can fix. Its message is one line and never contains interview text.

    ``CustdevError(N_("{root} has no database yet; run 'custdev build' first"), root=path)``: a message the catalogs
    translate, its fields filled in after; ``str()`` is the English, :meth:`localized` the base's language. A field
    may itself be a :class:`Message` or a CustdevError (``N_("{path}: {error}")``): it is localized with the rest."""

    def __init__(self, *args, **params):
        if len(args) == 1 and isinstance(args[0], Message) and not params:  # an error said elsewhere, passed on
            args, params = (args[0].template,), args[0].params
        self.template = args[0] if len(args) == 1 and isinstance(args[0], str) else None
        self.params = params
        if params and self.template is not None:
            args = (_fill(self.template, params),)
        super().__init__(*args)

    def localized(self, translator) -> str:
        """The message through ``translator`` (a :class:`custdev.i18n.Translator`): the same text where the catalogs
        have no translation."""
        if self.template is None:
            return str(self)
        return _fill(translator.gettext(self.template), self.params, translator)

    def as_message(self) -> Message:
        """This error's text as a :class:`Message` (for lists of errors shown later, in the base's language)."""
        return Message(self.template, **self.params) if self.template is not None else Message(str(self))


class BaseNotFound(CustdevError):
    pass


class ConfigError(CustdevError):
    pass


class ParseError(CustdevError):
    """A bad interview file. ``path`` and ``line`` point at the problem.

    ``ParseError(path, line, N_("bad timestamp [{ts}] (use HH:MM:SS)"), ts=text)``: ``message`` is the English text (a
    :class:`Message`, so a copy of it made elsewhere still translates), ``str()`` is ``path:line: message``."""

    def __init__(self, path: str, line: int | None, message: str, **params):
        self.path = path
        self.line = line
        self.message = message if isinstance(message, Message) and not params else Message(message, **params)
        self.where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{self.where}: {self.message}")

    def __reduce__(self):
        return (ParseError, (self.path, self.line, self.message))

    def localized(self, translator) -> str:
        return f"{self.where}: {self.message.localized(translator)}"

    def as_message(self) -> Message:
        return Message("{where}: {message}", where=self.where, message=self.message)


class SearchError(CustdevError):
    pass


class UnknownSlug(CustdevError):
    pass


class SystemReason(Message):
    """A reason from the system or a library (OSError, FFmpeg): the text is its own words (logs, English); localized,
    the catalog's message."""

    def __new__(cls, template: str, text: str):
        self = str.__new__(cls, text)
        self.template, self.params, self.system_text = template, {}, text
        return self

    def __reduce__(self):
        return (SystemReason, (self.template, self.system_text))

    def localized(self, translator) -> str:
        return self.system_text if translator.language == "en" else translator.gettext(self.template)
