"""Voice-of-customer channels beyond interviews: survey comments, support tickets and chat-bot dialogues.

* :mod:`custdev.channels.read` — CSV / XLSX / JSON Lines exports as a stream of checked rows (column mapping, bad rows).
* :mod:`custdev.channels.ingest` — ``custdev import FILE --channel …``: rows -> grouped markdown parts in ``channels/``.
* :mod:`custdev.channels.store` — the build step: parts -> the ``responses`` tables (schema/1000_channels.sql).
* :mod:`custdev.channels.analysis` — pains and NPS per channel, kept apart from interviews unless combined.
"""
