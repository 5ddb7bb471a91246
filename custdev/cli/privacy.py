"""Consent and retention: ``custdev purge``."""

from __future__ import annotations

from typing import Annotated

import typer

from custdev.cli import BaseOpt, JsonOpt, app, errors, out, print_json

_VERBS = {"delete": "delete", "drop-audio-line": "remove the audio: line of", "delete-from-copy": "remove the interview from the published copy"}


@app.command()
def purge(
    base: BaseOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete (without it, only show what would go).")] = False,
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
    if not plan.actions:
        out.print("Nothing to purge: no withdrawn consent, no recording past its retention date.", markup=False)
        return
    for a in plan.actions:
        prefix = "Done:" if plan.applied else "Would"
        out.print(f"{prefix} {_VERBS[a.action]} {a.path} ({a.reason})", markup=False)
    if plan.applied:
        out.print(f"Purged {len(plan.actions)} item(s); each is logged in .custdev/audit.log.", markup=False)
    else:
        out.print(f"Dry run: nothing was deleted. Run 'custdev purge --yes' to delete these {len(plan.actions)} item(s).", markup=False)
