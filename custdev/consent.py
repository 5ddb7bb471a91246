"""Consent and retention, from each interview's front matter:

* ``consent: internal | publish | withdrawn`` — ``internal`` (also when absent) keeps the interview in the base and
  its local site but out of published copies; ``publish`` lets ``custdev publish`` include it; ``withdrawn`` keeps
  it out of every copy and makes ``custdev purge`` delete everything of that respondent.
* ``retain_audio_until: YYYY-MM-DD`` — after that day ``custdev purge`` deletes the recording.
"""

from __future__ import annotations

import datetime as _dt

from custdev.errors import Message
from custdev.i18n import N_

CONSENT_VALUES = ("internal", "publish", "withdrawn")
DEFAULT_CONSENT = "internal"


def check_consent(value) -> str | None:
    """The consent value, or None when absent; raises ValueError naming the allowed values."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if text not in CONSENT_VALUES:
        raise ValueError(Message(N_("front matter 'consent' must be {choices} or {last}, not {value!r}"),
                                 choices=", ".join(CONSENT_VALUES[:-1]), last=CONSENT_VALUES[-1], value=value))
    return text


def check_date(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        return value.isoformat()
    try:
        return _dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValueError(Message(N_("front matter 'retain_audio_until' must be a date (YYYY-MM-DD), not {value!r}"), value=value)) from None
