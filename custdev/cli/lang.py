"""The language of the command line itself: ``--help`` and the usage errors typer and click print, in the base's language.

Which language a command line speaks (:func:`command_language`, decided once per run from the raw arguments, since
``--help`` and a usage error come before custdev's own code runs): the language of the base the command would use
(``--base``, else ``$CUSTDEV_BASE``, else the current folder, read from its custdev.toml like every error line);
``init --language X``: X (the language of the base it makes); no base: the user's locale (``LANGUAGE``, ``LC_ALL``,
``LC_MESSAGES``, ``LANG``, the first one set; Russian when it starts with ``ru``); else English.

How: :class:`CustdevGroup` is the click group of ``custdev`` (``typer.Typer(cls=...)``). In English it changes
nothing (the README's command reference is that output). In another language its :meth:`~CustdevGroup.main`
translates the help texts of every command through the catalogs (they are marked with ``N_``; a command's help is
its docstring, which ``custdev.i18n_tools`` extracts), the usage line's ``Usage:``/``[OPTIONS]``, and, only when help
or an error is about to be printed, typer's panel strings (``typer.rich_utils``' module constants, put back after
the run); a click usage error is rebuilt from its parts in that language (:func:`localized_error`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from contextvars import ContextVar
from typing import Any, Iterator, Sequence

from typer._click import exceptions as click_errors
from typer._click.core import Command, Context
from typer._click.formatting import HelpFormatter
from typer.core import TyperGroup
from typer.exceptions import Abort

from custdev.i18n import DEFAULT_LANGUAGE, N_, NP_, is_language, translator

_LANGUAGE: ContextVar[str | None] = ContextVar("custdev_cli_language", default=None)
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")  # gettext's order

# typer.rich_utils' fixed strings (English there, read when help or an error is printed).
RICH_STRINGS = {
    "DEPRECATED_STRING": N_("(deprecated) "),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
}
USAGE_PREFIX = N_("Usage: ")
OPTIONS_METAVAR = N_("[OPTIONS]")
SUBCOMMAND_METAVAR = N_("COMMAND [ARGS]...")
HELP_OPTION = N_("Show this message and exit.")
# The value types the help shows (<int>, <path>): the names typer gives them.
TYPE_NAMES = {"str": N_("text"), "int": N_("integer"), "float": N_("number"), "path": N_("path"), "Path": N_("path"),
              "bool": N_("flag"), "list": N_("list")}
# The arguments' names (usage line, the Arguments panel, "Missing argument 'file'"): typer shows the parameter's name.
ARGUMENT_NAMES = {"directory": N_("directory"), "query": N_("query"), "paths": N_("paths"), "folder": N_("folder"),
                  "file": N_("file"), "interview": NP_("interview", "interviews")}
OPTION_METAVARS = {"ADDRESS": N_("ADDRESS")}  # an option's placeholder (import --ray-address ADDRESS)
_TYPE_WORD = re.compile(r"\b(%s)\b( range\b)?" % "|".join(TYPE_NAMES))
RANGED = N_("{type} range")  # <int range> [x>=1]: a number with bounds (Russian: <целое> [x>=1], the bounds say it)

# Help texts with a value filled in (the default from its one source): the English text -> its message.
_DYNAMIC: dict[str, Any] = {}


def help_text(template: str, **fields) -> str:
    """A help text with ``fields`` filled in (``N_``-marked ``template``), translatable although typer keeps only
    its English ``str``."""
    from custdev.errors import Message

    message = Message(template, **fields)
    _DYNAMIC[str(message)] = message
    return str(message)


def locale_language(environ=os.environ) -> str | None:
    """The user's locale as one of custdev's languages (None when no locale variable is set)."""
    for name in LOCALE_VARIABLES:
        value = (environ.get(name) or "").split(":")[0].strip()
        if value:
            return "ru" if value.lower().startswith("ru") else DEFAULT_LANGUAGE
    return None


def _option_value(args: Sequence[str], names: tuple[str, ...]) -> str | None:
    for i, arg in enumerate(args):
        if arg == "--":
            break
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "=") and name.startswith("--"):
                return arg[len(name) + 1:]
            if not name.startswith("--") and arg.startswith(name) and len(arg) > len(name):
                return arg[len(name):]  # -bDIR
    return None


def command_language(args: Sequence[str], environ=os.environ) -> str:
    """The language a command line speaks (see the module's docstring). Never raises."""
    try:
        from custdev.config import CONFIG_NAME, declared_language, find_base_root

        words = [a for a in args if not a.startswith("-")]
        if words[:1] == ["init"]:
            language = _option_value(args, ("--language",))
            if is_language(language):
                return language
        try:
            root = find_base_root(_option_value(args, ("--base", "-b")) or environ.get("CUSTDEV_BASE") or None)
        except Exception:  # noqa: BLE001 - no base here: the locale says
            return locale_language(environ) or DEFAULT_LANGUAGE
        return declared_language(root / CONFIG_NAME)
    except Exception:  # noqa: BLE001 - choosing a language must never fail a command
        return DEFAULT_LANGUAGE


def current_language() -> str | None:
    """The language of the command line now running (None outside one)."""
    return _LANGUAGE.get()


def _run_language() -> str:
    """The language of the command line now running (English outside one)."""
    return _LANGUAGE.get() or DEFAULT_LANGUAGE


def _text(value, tr) -> Any:
    if not value:
        return value
    message = _DYNAMIC.get(value)
    return message.localized(tr) if message is not None else tr.gettext(value)


def localize_commands(command: Command, tr) -> None:
    """Put ``command``'s help, its parameters' and its subcommands' (recursively) in ``tr``'s language; the click
    objects are built afresh for each run, so this changes nothing beyond it."""
    command.help = _text(command.help, tr)
    command.short_help = _text(command.short_help, tr)
    command.epilog = _text(command.epilog, tr)
    if command.options_metavar == "[OPTIONS]":
        command.options_metavar = tr.gettext(OPTIONS_METAVAR)
    if getattr(command, "subcommand_metavar", None) == "COMMAND [ARGS]...":
        command.subcommand_metavar = tr.gettext(SUBCOMMAND_METAVAR)
    command.context_class = LocalizedContext
    for param in command.params:
        param.help = _text(getattr(param, "help", None), tr)
        _localize_type(param, tr)
        _localize_argument_name(param, tr)
        if param.metavar in OPTION_METAVARS:
            param.metavar = tr.gettext(OPTION_METAVARS[param.metavar])
    for sub in getattr(command, "commands", {}).values():
        localize_commands(sub, tr)


def _localize_argument_name(param, tr) -> None:
    name = ARGUMENT_NAMES.get(param.name) if param.param_type_name == "argument" and param.metavar is None else None
    if name is None:
        return
    # typer shows display_name_raw (the name) in the usage line, the Arguments panel and "Missing argument"; a
    # metavar would also replace it, but then the panel drops the "..." of an argument that takes several values.
    param.__class__ = _named_argument(type(param))
    param.custdev_name = tr.plural(name, 1) if isinstance(name, tuple) else tr.gettext(name)


@functools.lru_cache(maxsize=None)
def _named_argument(cls: type) -> type:
    return type(cls.__name__, (cls,), {"display_name_raw": property(lambda self: self.custdev_name)})


def _localize_type(param, tr) -> None:
    shown = getattr(param, "display_type_rich", None)
    if shown is None:
        return

    def display_type_rich(ctx, _shown=shown):
        text = _shown(ctx)
        def word(m):
            name = tr.gettext(TYPE_NAMES[m.group(1)])
            return tr.gettext(RANGED).format(type=name) if m.group(2) else name

        return _TYPE_WORD.sub(word, text) if text else text

    param.display_type_rich = display_type_rich


class LocalizedFormatter(HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        language = _run_language()
        super().write_usage(prog, args, translator(language).gettext(USAGE_PREFIX) if prefix is None else prefix)


class LocalizedContext(Context):
    """A command's context in a non-English run: its usage line and help (typer's panels) in that language."""

    formatter_class = LocalizedFormatter

    def get_help(self) -> str:
        tr = translator(_run_language())
        option = self.command.get_help_option(self)
        if option is not None and option.help == "Show this message and exit.":
            option.help = tr.gettext(HELP_OPTION)
            _localize_type(option, tr)
        _rich_strings(tr)
        return super().get_help()


_SAVED: dict[str, str] = {}


def _rich_strings(tr) -> None:
    """typer's panel strings in ``tr``'s language until the run ends (imported here: only to print help or an error)."""
    from typer import rich_utils

    for name, message in RICH_STRINGS.items():
        _SAVED.setdefault(name, getattr(rich_utils, name))
        setattr(rich_utils, name, tr.gettext(message))


def _restore_rich_strings() -> None:
    if _SAVED:
        from typer import rich_utils

        for name, value in _SAVED.items():
            setattr(rich_utils, name, value)
        _SAVED.clear()


# Usage errors click words with f-strings (no catalog there): the English shape -> our message with its fields.
_USAGE_ERRORS = [
    (r"Got unexpected extra argument\(s\) \((?P<args>.*)\)",
     NP_("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})")),
    (r"Option (?P<option>'.*') requires an argument\.", N_("Option {option} requires an argument.")),
    (r"Option (?P<option>'.*') requires (?P<n>\d+) arguments\.", N_("Option {option} requires {n} arguments.")),
    (r"Option (?P<option>'.*') does not take a value\.", N_("Option {option} does not take a value.")),
    (r"Argument (?P<argument>'.*') takes (?P<n>\d+) values\.", N_("Argument {argument} takes {n} values.")),
    (r"Missing command\.", N_("Missing command.")),
    (r"No such command (?P<name>'.*')\. Did you mean (?P<suggestions>.*)\?", N_("No such command {name}. Did you mean {suggestions}?")),
    (r"No such command (?P<name>'.*')\.", N_("No such command {name}.")),
    (r"(?P<kind>File|Directory|Path) (?P<path>'.*') does not exist\.", N_("{kind} {path} does not exist.")),
]
_PATH_KINDS = {"File": N_("File"), "Directory": N_("Directory"), "Path": N_("Path")}
# What pydantic says of a bad value (typer checks values with it), by its error type.
_VALUE_ERRORS = {
    "int_parsing": N_("a whole number is needed"),
    "int_from_float": N_("a whole number is needed"),
    "float_parsing": N_("a number is needed"),
    "bool_parsing": N_("use true or false"),
    "greater_than_equal": N_("must be at least {ge}"),
    "greater_than": N_("must be more than {gt}"),
    "less_than_equal": N_("must be at most {le}"),
    "less_than": N_("must be less than {lt}"),
}
_PARAM_KINDS = {"argument": N_("Missing argument {hint}."), "option": N_("Missing option {hint}.")}


def _usage_message(text: str, tr) -> str | None:
    for pattern, message in _USAGE_ERRORS:
        m = re.fullmatch(pattern, text, re.S)
        if m is None:
            continue
        fields = m.groupdict()
        if "kind" in fields:
            fields["kind"] = tr.gettext(_PATH_KINDS[fields["kind"]])
        if isinstance(message, tuple):
            return tr.ngettext(*message, len(fields["args"].split())).format(**fields)
        return tr.gettext(message).format(**fields)
    return None


def _value_message(exc: click_errors.BadParameter, tr) -> str:
    """The reason a value is bad (after "Invalid value for --x:"), in ``tr``'s language where we know it."""
    message = exc.message
    if callable(getattr(message, "localized", None)):
        return message.localized(tr)
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):
        with contextlib.suppress(Exception):
            first = errors()[0]
            template = _VALUE_ERRORS.get(first.get("type"))
            if template is not None:
                return tr.gettext(template).format(**(first.get("ctx") or {}))
    return _usage_message(message, tr) or tr.gettext(message)


def _hint(exc: click_errors.BadParameter) -> str | None:
    if exc.param_hint is not None:
        hint = exc.param_hint
        return hint if isinstance(hint, str) else " / ".join(repr(x) for x in hint)
    return exc.param.get_error_hint() if exc.param is not None else None


def localized_error(exc: click_errors.ClickException, tr) -> click_errors.ClickException:
    """``exc`` said in ``tr``'s language: the same kind of error (exit code, usage line, help hint), its message
    rebuilt from its parts; ``exc`` itself when we do not know its words (or it is help, not an error)."""
    if isinstance(exc, click_errors.NoArgsIsHelpError) or getattr(exc, "localized", False):
        return exc
    text = None
    if isinstance(exc, click_errors.MissingParameter):
        hint = _hint(exc)
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "parameter")
        text = tr.gettext(_PARAM_KINDS.get(kind, N_("Missing parameter {hint}."))).format(hint=hint or "")
        extra = exc.param.get_missing_message(ctx=exc.ctx) if exc.param is not None else None
        if extra:
            text += " " + extra.replace("Choose from:", tr.gettext(N_("Choose from:")))
    elif isinstance(exc, click_errors.BadParameter):
        hint, reason = _hint(exc), _value_message(exc, tr)
        text = (tr.gettext(N_("Invalid value for {hint}: {reason}")).format(hint=hint, reason=reason) if hint
                else tr.gettext(N_("Invalid value: {reason}")).format(reason=reason))
    elif isinstance(exc, click_errors.NoSuchOption):
        if exc.message.startswith("No such option"):
            text = tr.gettext(N_("No such option: {option}")).format(option=exc.option_name)
        else:
            text = _usage_message(exc.message, tr)
        if text and exc.possibilities:
            text += " " + tr.gettext(N_("(Possible options: {options})")).format(options=", ".join(sorted(exc.possibilities)))
    elif isinstance(exc, click_errors.UsageError):
        text = _usage_message(exc.message, tr)
    if text is None:
        return exc
    if isinstance(exc, click_errors.UsageError):
        new = click_errors.UsageError(text, ctx=exc.ctx)
    else:
        new = click_errors.ClickException(text)
    new.exit_code = exc.exit_code
    new.localized = True
    return new


@contextlib.contextmanager
def _localized_errors() -> Iterator[None]:
    try:
        yield
    except Abort:  # a prompt given Ctrl-D: typer prints "Aborted." (rich_utils.ABORTED_TEXT)
        language = _run_language()
        if language != DEFAULT_LANGUAGE:
            _rich_strings(translator(language))
        raise
    except click_errors.ClickException as exc:
        language = _run_language()
        if language == DEFAULT_LANGUAGE:
            raise
        tr = translator(language)
        new = localized_error(exc, tr)
        if new is exc:
            raise
        _rich_strings(tr)
        raise new from None


class CustdevGroup(TyperGroup):
    """The ``custdev`` command group: help and usage errors in the language of the command line
    (:func:`command_language`)."""

    def main(self, args: Sequence[str] | None = None, *rest, **kwargs) -> Any:
        import sys

        args = list(sys.argv[1:] if args is None else args)
        language = command_language(args)
        token = _LANGUAGE.set(language)
        try:
            if language != DEFAULT_LANGUAGE:
                localize_commands(self, translator(language))
            return super().main(args, *rest, **kwargs)
        finally:
            _restore_rich_strings()
            _LANGUAGE.reset(token)

    def make_context(self, *args, **kwargs) -> Context:
        with _localized_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Context) -> Any:
        with _localized_errors():
            return super().invoke(ctx)
