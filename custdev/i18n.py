"""Languages and message catalogs: the one home of "en"/"ru" and of every translated label.

Labels are written in English in the code, marked for extraction, and translated through gettext catalogs
(``custdev/locale/<lang>/LC_MESSAGES/custdev.po``, compiled to ``custdev.mo`` beside it):

* Python: ``t = translator(lang)`` then ``t.gettext("Pains")`` / ``t.ngettext("{n} quote", "{n} quotes", n)``;
  a label defined away from where it is shown is marked with :func:`N_` (or :func:`NP_` for a plural pair).
* Templates: Jinja's ``i18n`` extension (``{% trans %}``, ``{{ _("…") }}``), installed per request by the site.

The ``.mo`` files are committed, so a checkout, an editable install and a wheel all work with the standard
library's :mod:`gettext` alone (Babel is needed only to extract and compile, see ``scripts/i18n``);
``tests/test_i18n.py`` fails when a ``.po`` and its committed ``.mo`` differ, or a catalog misses a message.
Russian plurals come from the catalog's ``Plural-Forms`` (1 цитата, 2 цитаты, 5 цитат, 21 цитата).

Numbers and percentages are written by :func:`decimal` and :func:`percent` (Babel's CLDR number formats): the
report, the CLI tables, the charts and the site all write 12,5% and 1 234 in Russian, 12.5% and 1,234 in English.
"""

from __future__ import annotations

import gettext as _gettext
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("en", "ru")  # languages of labels (site, reports, CLI tables) and of interviews
DEFAULT_LANGUAGE = "en"
DOMAIN = "custdev"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def N_(message: str) -> str:
    """Mark ``message`` for the catalogs without translating it here (translate it where it is shown)."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural pair for the catalogs; show it with ``translator(lang).ngettext(*pair, n)``."""
    return singular, plural


# A turn's speaker role as a reader sees it (CLI search lines, the site's speaker facet, the quotes spreadsheet).
SPEAKER_ROLES = {"respondent": N_("respondent"), "interviewer": N_("interviewer")}


def is_language(value: object) -> bool:
    return value in LANGUAGES


def language_error(value: object) -> str:
    """The one wording of a bad language value (callers prefix where it came from)."""
    return "must be " + " or ".join(f"'{x}'" for x in LANGUAGES) + f", not {value!r}"


class Translator:
    """gettext/ngettext for one language, plus helpers the report and the site share."""

    def __init__(self, language: str):
        if language not in LANGUAGES:
            raise ValueError(f"language {language_error(language)}")
        self.language = language
        self._t = _catalog(language)

    def gettext(self, message: str) -> str:
        return self._t.gettext(message)

    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    def plural(self, pair: tuple[str, str], n: int) -> str:
        return self._t.ngettext(pair[0], pair[1], n)

    @property
    def translations(self) -> _gettext.NullTranslations:
        """The underlying gettext object (for ``jinja2.ext.i18n``'s ``install_gettext_translations``)."""
        return self._t


def decimal(x: float, language: str = DEFAULT_LANGUAGE, digits: int = 1, *, fixed: bool = False) -> str:
    """``x`` with at most ``digits`` decimals (exactly ``digits`` when ``fixed``), grouped, in ``language``'s digits:
    1 234,5 in Russian, 1,234.5 in English. The one number format of custdev (Babel, imported here only)."""
    from babel.numbers import format_decimal

    fmt = "#,##0" + ("." + ("0" if fixed else "#") * digits if digits else "")
    return format_decimal(x, format=fmt, locale=language if language in LANGUAGES else DEFAULT_LANGUAGE)


def percent(share: float | None, language: str = DEFAULT_LANGUAGE, digits: int = 1, *, fixed: bool = False) -> str:
    """A share 0..1 as a percentage: 12.5% / 12,5% ("—" for None)."""
    return "—" if share is None else decimal(share * 100, language, digits, fixed=fixed) + "%"


def nps_text(value: float | None, language: str = DEFAULT_LANGUAGE) -> str:
    """An NPS as the tables write it, signed with one decimal: +50.0 / -14,3 / 0.0 ("—" for None)."""
    if value is None:
        return "—"
    return ("+" if value > 0 else "-" if value < 0 else "") + decimal(abs(value), language, fixed=True)


@lru_cache(maxsize=None)
def _catalog(language: str) -> _gettext.NullTranslations:
    # fallback=False for a language we ship: a missing .mo is a broken installation, not "show English".
    return _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[language], fallback=False)


@lru_cache(maxsize=None)
def translator(language: str) -> Translator:
    return Translator(language)
