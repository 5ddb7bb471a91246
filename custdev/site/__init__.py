"""The research site: Datasette configured for a custdev base, and the Datasette plugin behind its pages.

This package is the only place that imports Datasette. One module per job:

* ``settings`` — names and defaults, the base's ``datasette_metadata.json`` (its own, else the packaged default),
  ``[site]`` in custdev.toml and the secret that signs logins (``.custdev/site_secret``).
* ``app`` — ``make_datasette()`` and ``serve_base()`` (``custdev serve``): Datasette on loopback, one or more
  worker processes on one socket; ``share=True`` puts every page behind the password and turns SQL off.
* ``auth`` — the password hash and the gate of shared sites.
* ``plugin`` — the Datasette plugin (entry point ``custdev``): SQL functions, templates, routes, page data hooks.
* ``pages`` — data for the home, search, quote, interview and charts pages.
* ``searchsql`` — the stemmed search query, snippets and facet SQL (the same query as ``custdev search``).
* ``audio`` — the audio route with HTTP Range support, for the base's own recordings only.
* ``common`` — small helpers shared by pages and routes.

Charts are drawn by :mod:`custdev.charts`, shared with the report. Templates live in ``custdev/site/templates``
and the stylesheet in ``custdev/site/static``.
"""

from custdev.site.app import ServeInfo, make_datasette, serve_base
from custdev.site.auth import hash_password, password_hash_for, set_password, verify_password
from custdev.site.settings import load_metadata, metadata_path, set_site_value, site_config, site_secret

__all__ = [
    "ServeInfo",
    "hash_password",
    "load_metadata",
    "make_datasette",
    "metadata_path",
    "password_hash_for",
    "serve_base",
    "set_password",
    "set_site_value",
    "site_config",
    "site_secret",
    "verify_password",
]
