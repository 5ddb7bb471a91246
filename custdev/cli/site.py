"""Commands for the research site: serve (Datasette) and publish (a redacted copy to share)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from custdev.cli import BaseOpt, JsonOpt, QuietOpt, app, err, error_line, errors, out, print_json, warning_line
from custdev.errors import Message
from custdev.i18n import N_

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _build_first(base, quiet: bool) -> None:
    """Bring custdev.db up to date (incremental). A published copy has no interviews/ and is served as it is."""
    from custdev.build import build_base

    if not base.interviews_dir.is_dir() or base.is_published_copy:
        return
    from custdev.db import writable

    from custdev.i18n import translator

    tr = translator(base.config.language)
    if base.db_path.exists() and not writable(base.db_path):
        err.print(tr.gettext("Note: {root} is read only here; serving {db} as it is, without a build.").format(
            root=base.root, db=base.db_path.name), markup=False)
        return
    from custdev.cli.base import _progress

    with _progress(quiet, N_("Building"), base.config.language) as advance:
        result = build_base(base, progress=advance)
    if result.failed:
        err.print(tr.ngettext(
            "Warning: {n} interview file could not be built; the site shows its last good version. Run 'custdev build' to see why.",
            "Warning: {n} interview files could not be built; the site shows their last good version. Run 'custdev build' to see why.",
            result.failed).format(n=result.failed), markup=False)
    elif not quiet and (result.built or result.removed):
        err.print(tr.ngettext("Built {built}, removed {removed}; {total} interview in {db}.",
                              "Built {built}, removed {removed}; {total} interviews in {db}.", result.total).format(
            built=result.built, removed=result.removed, total=result.total, db=base.db_path.name), markup=False)


def _new_password(tr) -> str:
    """The site password, typed twice (hidden), asked in the base's language (typer's own confirmation speaks English)."""
    while True:
        password = typer.prompt(tr.gettext("Site password"), hide_input=True)
        if typer.prompt(tr.gettext("Repeat for confirmation"), hide_input=True) == password:
            return password
        error_line(N_("the two passwords differ; type them again"), tr.language)


@app.command()
def serve(
    base: BaseOpt = None,
    host: Annotated[str, typer.Option(help=N_("Address to listen on: 127.0.0.1 is this computer only; 0.0.0.0 is every network interface (only when you mean it)."))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=N_("Port to listen on; 0 picks any free port."), min=0, max=65535)] = 8001,
    share: Annotated[bool, typer.Option("--share", help=N_("Password-protect every page (JSON included) and turn off arbitrary SQL. Also on with \\[site] share = true in custdev.toml."))] = False,
    set_password: Annotated[bool, typer.Option("--set-password", help=N_("Ask for the site password and store its hash in the base's git-ignored .custdev/site_password (signs everyone out); the password never goes on the command line."))] = False,
    open_browser: Annotated[Optional[bool], typer.Option("--open/--no-open", help=N_("Open the site in a web browser (default: when run from a terminal)."))] = None,
    build: Annotated[bool, typer.Option("--build/--no-build", help=N_("Bring custdev.db up to date before serving."))] = True,
    workers: Annotated[Optional[int], typer.Option(help=N_("Server processes (default: one per CPU, at most 4)."), min=1, max=32)] = None,
    language: Annotated[Optional[str], typer.Option("--language", help=N_("Language of the site's labels: en or ru (default: the base's language). A viewer can switch with ?_lang=en or ?_lang=ru."), show_default=False)] = None,
    quiet: QuietOpt = False,
) -> None:
    """Browse, search and play the research base in a web browser (Datasette), on this computer or shared with a password."""
    from custdev.config import load_base
    from custdev import site
    from custdev.errors import ConfigError

    with errors():
        b = load_base(base)
        if set_password:
            from custdev.i18n import translator

            tr = translator(b.config.language)
            password = _new_password(tr)
            path = site.set_password(b, password)
            out.print(tr.gettext("Stored the password hash in {path}; earlier logins no longer work.").format(path=path), markup=False)
            if not share:
                out.print(tr.gettext("Start the shared site with: {command}").format(command="custdev serve --share"), markup=False)
                return
            b = load_base(b.root)
        from custdev.config import language_choices
        from custdev.i18n import is_language

        if language is not None and not is_language(language):
            raise ConfigError(N_("--language must be {choices}, not {value!r}"), choices=language_choices(), value=language)
        share = share or site.site_config(b).get("share") is True
        if share and not site.password_hash_for(b):
            raise ConfigError(N_("a shared site needs a password: run 'custdev serve --set-password' first"))
        if build:
            _build_first(b, quiet)
        if host not in LOOPBACK and not share:
            warning_line(Message(N_("listening on {host} without a password: anyone who can reach this computer can read the base. "
                                    "Use --share to require one."), host=host), b.config.language)
        if open_browser is None:
            open_browser = sys.stdout.isatty() and sys.stdin.isatty()

        from custdev.i18n import translator

        tr = translator(b.config.language)

        def ready(info) -> None:
            out.print(tr.gettext("Serving {title} at {url}").format(title=info.title, url=info.url), markup=False)
            if info.host not in LOOPBACK:
                out.print(tr.gettext("Listening on {host}: others reach it at this computer's network address, port {port}.").format(
                    host=info.host, port=info.port), markup=False)
            if info.share:
                out.print(tr.gettext("Shared: every page needs the password (username: {username}); arbitrary SQL is off.").format(
                    username=info.username), markup=False)
            out.print(tr.gettext("Press Ctrl+C to stop."), markup=False)
            sys.stdout.flush()

        site.serve_base(b, host=host, port=port, share=share, open_browser=open_browser, workers=workers, language=language, on_ready=ready)


@app.command()
def publish(
    directory: Annotated[Path, typer.Argument(help=N_("Folder to write the copy to (created if missing); serve it with 'custdev serve --base DIR'."))],
    base: BaseOpt = None,
    redact: Annotated[bool, typer.Option("--redact/--no-redact", help=N_("Replace people (known ones in every form, third parties found by NER), companies, contact details and identity numbers; drop recordings; refuse on any leak."))] = True,
    build: Annotated[bool, typer.Option("--build/--no-build", help=N_("Bring custdev.db up to date first."))] = True,
    include_unconsented: Annotated[bool, typer.Option("--include-unconsented", help=N_("Also include interviews without 'consent: publish' (never withdrawn ones); said in the output."))] = False,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write a copy of the research database to share: redacted by default, with the site's metadata; only interviews with consent to publish."""
    from custdev.config import load_base
    from custdev.publish import publish_base

    with errors():
        b = load_base(base)
        if build:
            _build_first(b, quiet or json_)
        from custdev.cli.base import _progress

        with _progress(quiet or json_ or not redact, N_("Redacting"), b.config.language) as advance:
            result = publish_base(b, directory, redact=redact, include_unconsented=include_unconsented, progress=advance)
    if json_:
        print_json(result.to_dict())
        return
    from custdev.i18n import decimal, translator

    tr = translator(b.config.language)
    if result.unconsented:
        err.print(tr.ngettext(
            "Note: --include-unconsented: {n} interview without 'consent: publish' is in this copy.",
            "Note: --include-unconsented: {n} interviews without 'consent: publish' are in this copy.", result.unconsented,
        ).format(n=result.unconsented), markup=False)
    for note in result.notes:
        warning_line(Message("{note}.", note=note), b.config.language)
    if result.left_out:
        err.print(tr.ngettext(
            "Note: {n} interview left out: no 'consent: publish' in its front matter, or withdrawn.",
            "Note: {n} interviews left out: no 'consent: publish' in their front matter, or withdrawn.", result.left_out,
        ).format(n=result.left_out), markup=False)
    interviews = tr.ngettext("{n} interview", "{n} interviews", result.interviews).format(n=result.interviews)
    if result.redacted:
        out.print(tr.gettext("Wrote a redacted copy to {db}: {interviews}; {n} names, companies, contact details and "
                             "identity numbers replaced.").format(
            db=result.db_path, interviews=interviews, n=decimal(result.replacements, tr.language, 0)), markup=False)
    else:
        err.print(tr.gettext("Warning: this copy is NOT redacted: it holds names, companies and contact details."), markup=False)
        out.print(tr.gettext("Wrote a copy to {db}: {interviews}.").format(db=result.db_path, interviews=interviews), markup=False)
    out.print(tr.gettext("Serve it with: {command}").format(command=f"custdev serve --base {result.directory}"), markup=False)
