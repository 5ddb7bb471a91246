"""The command line of a Russian base in Russian: every command's --help (typer's panels too) and the usage errors
typer and click print before custdev's code runs (unknown option, missing argument, bad value, our BadParameter
lines); English where no base says otherwise, and the README's command reference stays English."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from custdev.cli import app
from test_i18n import english_runs

runner = CliRunner()
ENV = {"TERMINAL_WIDTH": "100", "NO_COLOR": "1", "TERM": "dumb", "CUSTDEV_BASE": None, "LANGUAGE": None, "LC_ALL": None,
       "LC_MESSAGES": None, "LANG": "C.UTF-8"}
REPO = Path(__file__).resolve().parent.parent
# What a Russian help text keeps as written: examples (an English search, what --similar also finds), names of
# products and formats, and values a user types (choices, column names, front matter).
KEPT = ['"too expensive"', "invoices", "Ray Client", "Ray (pip", "pip install", "JSON Lines", "Good-Turing", "customer development",
        "consent: withdrawn", "consent: publish", "[transcription] model", "[transcription] ray", "[site] share", "REFI-QDA", "QualCoder", "NVivo", "ATLAS.ti",
        "VTT", "SRT", "TXT", "DOCX", "Markdown", "suggest, clusters", "survey, ticket", "interview, survey",
        "auto, cpu", "left, right", "ru, en", "en, ru", "interview, date, respondent, company, segments", "text, date, respondent"]


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli-i18n")
    for language in ("ru", "en"):
        assert runner.invoke(app, ["init", str(root / language), "--language", language], env=ENV).exit_code == 0
    return {language: root / language for language in ("ru", "en")}


def described(text: str) -> str:
    """``text`` without its usage line and help hint (they name the command: custdev export quotes)."""
    return "\n".join(line for line in text.splitlines() if "Использование:" not in line and "Справка:" not in line)


@pytest.fixture(autouse=True)
def width(monkeypatch):
    """Help as wide as the README's (typer reads TERMINAL_WIDTH once, when another test may have imported it)."""
    from typer import rich_utils

    monkeypatch.setattr(rich_utils, "MAX_WIDTH", 100)


def command_paths(group=None, prefix=()):
    group = group or typer.main.get_group(app)
    yield prefix
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from command_paths(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_help_of_every_command_in_a_russian_base_reads_as_russian(bases):
    paths = list(command_paths())
    assert len(paths) > 25
    for names in paths:
        result = runner.invoke(app, [*names, "--help"], env={**ENV, "CUSTDEV_BASE": str(bases["ru"])})
        assert result.exit_code == 0, result.output
        text = result.stdout
        assert "Использование: custdev" in text and "Показать эту справку и выйти." in text, text
        assert "Usage" not in text and "Options" not in text and "[OPTIONS]" not in text, text
        assert english_runs(described(text), KEPT) == [], (names, text)
    search = runner.invoke(app, ["search", "--help"], env={**ENV, "CUSTDEV_BASE": str(bases["ru"])}).stdout
    for shown in ("─ Аргументы ", "─ Параметры ", "[по умолчанию: 20]", "[переменная окружения: CUSTDEV_BASE]", "<целое>",
                  "Полнотекстовый поиск по сказанному"):
        assert shown in search, search
    top = runner.invoke(app, ["--help"], env={**ENV, "CUSTDEV_BASE": str(bases["ru"])}).stdout
    assert "─ Команды " in top and "КОМАНДА [АРГУМЕНТЫ]..." in top and "Собрать базу SQLite (custdev.db)" in top


# (arguments, the Russian line, the English line as typer/click/custdev say it)
USAGE_ERRORS = [
    (["build", "--nope"], "Нет такого параметра: --nope", "No such option: --nope"),
    (["import"], "Не указан аргумент 'пути'.", "Missing argument 'paths'."),
    (["search", "--limit", "abc", "x"], "Неверное значение '--limit': нужно целое число", "Invalid value for '--limit'"),
    (["cooccurrence", "--top", "0"], "Неверное значение '--top' / '-n': должно быть не меньше 1", "greater than or equal to 1"),
    (["search", "a", "b"], "Лишний аргумент: b", "Got unexpected extra argument(s) (b)"),
    (["saturation", "-k"], "Параметру '-k' нужно значение.", "Option '-k' requires an argument."),
    (["nope"], "Нет команды 'nope'.", "No such command 'nope'."),
    (["import", "a.vtt", "--language", "de"], "Неверное значение --language: укажите en, ru или auto", "use en, ru or auto"),
    (["import", "a.wav", "--speakers", "9"], "Неверное значение --speakers: укажите число голосов от 1 до 8", "give 1 to 8 voices"),
    (["import", "a.wav", "--interviewer-channel", "up"], "Неверное значение --interviewer-channel: укажите left, right или auto", "use left, right or auto"),
    (["import", "a.wav", "--device", "tpu"], "Неверное значение --device: укажите auto, cpu или cuda", "use auto, cpu or cuda"),
    (["import", "a.csv", "--channel", "nope"], "Неверное значение --channel: укажите survey, ticket, chat", "use survey, ticket, chat"),
    (["import", "a.csv", "--channel", "survey", "--encoding", "nope"], "Неверное значение --encoding: неизвестная кодировка 'nope'", "unknown encoding 'nope'"),
    (["import", "a.csv", "--channel", "survey", "--column", "zz"], "Неверное значение --column: 'zz': нужно ПОЛЕ=ЗАГОЛОВОК", "'zz': use FIELD=HEADER"),
    (["export", "quotes", "q.csv", "--delimiter", ";;"], "Неверное значение --delimiter: нужен один символ, например ; или ,", "one character, such as ; or ,"),
]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_usage_errors_speak_the_language_of_the_base(bases, language):
    for args, russian, english in USAGE_ERRORS:
        result = runner.invoke(app, args, env={**ENV, "CUSTDEV_BASE": str(bases[language])})
        assert result.exit_code == 2, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        said = " ".join(result.stderr.split())
        if language == "ru":
            assert russian in said, (args, said)
            assert "Ошибка" in said and english_runs(described(result.stderr), KEPT) == [], (args, result.stderr)
            if "Использование:" in said:  # the usage line and where to find help, in Russian too
                assert "Справка: 'custdev " in said, said
        else:
            assert english in said, (args, said)
            assert "Error" in said and "Usage:" in said or "requires an argument" in said, said


def test_which_language_the_command_line_speaks(bases, tmp_path, monkeypatch):
    """The base the command would use (--base, $CUSTDEV_BASE, the current folder), init's --language, else the
    user's locale; the README's command reference (run in the repository's English sample base) stays English."""
    def usage(args, **env):
        result = runner.invoke(app, args, env={**ENV, **env})
        return result.stdout.split()[0] if result.exit_code == 0 else result.stderr.split()[0]

    assert usage(["build", "--help", "--base", str(bases["ru"])]) == "Использование:"
    assert usage(["build", "--help", "-b", str(bases["en"])], CUSTDEV_BASE=str(bases["ru"])) == "Usage:"
    assert usage(["init", "--language", "ru", "--help"]) == "Использование:"
    monkeypatch.chdir(bases["ru"])
    assert usage(["pains", "--nope"]) == "Использование:"
    monkeypatch.chdir(REPO)  # the sample base: English whatever the locale says
    assert usage(["build", "--help"], LANG="ru_RU.UTF-8") == "Usage:"
    monkeypatch.chdir(tmp_path)  # no base here: the locale decides
    assert usage(["build", "--help"], LANG="ru_RU.UTF-8") == "Использование:"
    assert usage(["build", "--help"], LANGUAGE="en_GB:ru", LANG="ru_RU.UTF-8") == "Usage:"
    assert usage(["build", "--help"]) == "Usage:"
    # custdev's own error line follows the same rule
    result = runner.invoke(app, ["build"], env={**ENV, "LANG": "ru_RU.UTF-8"})
    assert result.exit_code == 1 and result.stderr.startswith("Ошибка: ") and "не база custdev" in result.stderr, result.stderr


def test_the_site_password_is_asked_in_the_language_of_the_base(bases):
    """Seen: serve --set-password asked "Site password" / "Repeat for confirmation" and said "Error: The two entered
    values do not match." (and "Aborted." on Ctrl-D) in English in a Russian base."""
    env = {**ENV, "CUSTDEV_BASE": str(bases["ru"])}
    result = runner.invoke(app, ["serve", "--set-password"], input="раз-два-три\nчетыре\nраз-два-три\nраз-два-три\n", env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("Пароль сайта: ") == 2 and result.stdout.count("Повторите для подтверждения: ") == 2
    assert result.stderr.splitlines() == ["Ошибка: пароли не совпадают; введите их ещё раз"]
    assert "Хеш пароля сохранён в " in result.stdout and (bases["ru"] / ".custdev" / "site_password").exists()
    aborted = runner.invoke(app, ["serve", "--set-password"], input="", env=env)
    assert aborted.exit_code == 1 and aborted.stderr.strip().endswith("Прервано."), aborted.output
