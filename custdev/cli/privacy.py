"""Consent and retention: ``custdev purge``."""

from __future__ import annotations

from typing import Annotated

import typer

from custdev.cli import BaseOpt, JsonOpt, app, errors, out, print_json
from custdev.i18n import N_, translator

# (action, applied) -> the line; the reason and path are filled in.
_LINES = {
    ("delete", False): N_("Would delete {path} ({reason})"),
    ("delete", True): N_("Done: delete {path} ({reason})"),
    ("drop-audio-line", False): N_("Would remove the audio: line of {path} ({reason})"),
    ("drop-audio-line", True): N_("Done: remove the audio: line of {path} ({reason})"),
    ("delete-from-copy", False): N_("Would remove the interview from the published copy {path} ({reason})"),
    ("delete-from-copy", True): N_("Done: remove the interview from the published copy {path} ({reason})"),
}


@app.command()
def purge(
    base: BaseOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help=N_("Really delete (without it, only show what would go)."))] = False,
    json_: JsonOpt = False,
) -> None:
    """Delete recordings past retain_audio_until and everything of respondents with consent: withdrawn (a dry run unless --yes)."""
    from custdev.config import load_base
    from custdev.purge import apply_purge, plan_purge

    with errors():
        b = load_base(base)
        plan = plan_purge(b)
        if yes and plan.actions:
            apply_purge(b, plan)
    if json_:
        print_json(plan.to_dict())
        return
    tr = translator(b.config.language)
    if not plan.actions:
        out.print(tr.gettext("Nothing to purge: no withdrawn consent, no recording past its retention date."), markup=False)
        return
    for a in plan.actions:
        out.print(tr.gettext(_LINES[a.action, plan.applied]).format(path=a.path, reason=a.reason_in(tr)), markup=False)
    n = len(plan.actions)
    if plan.applied:
        out.print(tr.ngettext("Purged {n} item; it is logged in .custdev/audit.log.",
                              "Purged {n} items; each is logged in .custdev/audit.log.", n).format(n=n), markup=False)
    else:
        out.print(tr.ngettext("Dry run: nothing was deleted. Run 'custdev purge --yes' to delete this {n} item.",
                              "Dry run: nothing was deleted. Run 'custdev purge --yes' to delete these {n} items.", n).format(n=n),
                  markup=False)
