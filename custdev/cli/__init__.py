"""The ``custdev`` command line: thin commands over the library.

Every command parses its options, calls one library function and maps :class:`CustdevError` to one
``Error: …`` line on stderr with exit code 1. Commands live in the modules imported at the bottom, one per area.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Any, Iterator, Optional

import typer
from rich.console import Console

from custdev.errors import CustdevError, Message
from custdev.cli.lang import CustdevGroup, command_language, current_language
from custdev.i18n import N_

app = typer.Typer(
    name="custdev",
    cls=CustdevGroup,  # help and usage errors in the base's language (custdev.cli.lang)
    help=N_("custdev: an offline-first research base for customer-development interviews."),
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,  # locals would leak interview text into tracebacks
    no_args_is_help=True,
    add_completion=False,
)

# Options shared by many commands.
BaseOpt = Annotated[
    Optional[Path],
    typer.Option("--base", "-b", envvar="CUSTDEV_BASE", help=N_("Research base folder (default: $CUSTDEV_BASE, else the current folder)."), show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help=N_("Print machine-readable JSON."))]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help=N_("No progress bars or chatter."))]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """JSON on stdout, UTF-8, not escaped, so Russian stays readable."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str | Message | CustdevError, code: int = 1) -> typer.Exit:
    """One ``Error: …`` line on stderr, in the base's language where the catalogs have the message."""
    return say(N_("Error: {message}"), message, code)


def say(kind: str, message: str | Message | CustdevError, code: int = 1, language: str | None = None) -> typer.Exit:
    """One ``Error: …``, ``Warning: …`` or ``Note: …`` line (``kind``) on stderr, in the base's language (``language``,
    else the one of the base the command was pointed at)."""
    from custdev.i18n import translator

    tr = translator(language or _error_language())
    text = message.localized(tr) if callable(getattr(message, "localized", None)) else tr.gettext(message)
    err.print(tr.gettext(kind).format(message=text), markup=False)
    return typer.Exit(code)


def error_line(message: str | Message | CustdevError, language: str | None = None) -> None:
    """Print one ``Error: …`` line (a bad file among good ones; the command goes on)."""
    say(N_("Error: {message}"), message, 1, language)


def warning_line(message: str | Message | CustdevError, language: str | None = None) -> None:
    say(N_("Warning: {message}"), message, 1, language)


def note_line(message: str | Message | CustdevError, language: str | None = None) -> None:
    say(N_("Note: {message}"), message, 1, language)


def _error_language() -> str:
    """The language of the command line now running (custdev.cli.lang.command_language: the base it was pointed at,
    read from its custdev.toml also when the rest of that file is wrong; for ``init``, the base it makes; else the
    user's locale; else English)."""
    return current_language() or command_language(sys.argv[1:])


@contextlib.contextmanager
def errors() -> Iterator[None]:
    """Turn library errors into one stderr line and exit 1; never a traceback (it could hold interview text)."""
    try:
        yield
    except CustdevError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        raise fail(N_("interrupted"), 130) from None
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except sqlite3.OperationalError as exc:
        from custdev.db import LOCKED_MESSAGE, is_locked, is_readonly

        if is_locked(exc):
            raise fail(LOCKED_MESSAGE) from None
        if is_readonly(exc):
            raise fail(N_("the research base is read only here (this command needs to write to it); copy it to a writable folder")) from None
        if os.environ.get("CUSTDEV_DEBUG"):
            raise
        raise fail(Message(N_("database error ({error}); rerun with CUSTDEV_DEBUG=1 to see the traceback"), error=exc)) from None
    except Exception as exc:  # noqa: BLE001 - last line of defence
        if os.environ.get("CUSTDEV_DEBUG"):
            raise
        raise fail(Message(N_("unexpected {error}; rerun with CUSTDEV_DEBUG=1 to see the traceback"), error=type(exc).__name__)) from None


def main() -> None:
    app()


# Command modules register themselves on ``app``; keep this import list in sync with the files.
from custdev.cli import base as _base  # noqa: E402,F401
from custdev.cli import analysis as _analysis  # noqa: E402,F401
from custdev.cli import evidence as _evidence  # noqa: E402,F401
from custdev.cli import imports as _imports  # noqa: E402,F401
from custdev.cli import site as _site  # noqa: E402,F401
from custdev.cli import interchange as _interchange  # noqa: E402,F401
from custdev.cli import channels as _channels  # noqa: E402,F401
from custdev.cli import meaning as _meaning  # noqa: E402,F401
from custdev.cli import privacy as _privacy  # noqa: E402,F401
