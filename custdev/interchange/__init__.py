"""Interchange with other tools: REFI-QDA projects and codebooks (``.qdpx``/``.qdc``), spreadsheets, channels.

* :mod:`custdev.interchange.refi` — what the REFI-QDA 1.5 export and import share: namespaces, stable GUIDs,
  the code tree that stands for pains, hypotheses and tags.
* :mod:`custdev.interchange.qdpx_export` — ``custdev export qdpx|qdc``.
* :mod:`custdev.interchange.qdpx_import` — ``custdev import project.qdpx``.
* :mod:`custdev.interchange.quotes` — ``custdev export quotes --format csv|xlsx``.

``xsd/`` holds the REFI-QDA schemas the tests validate against (see ``xsd/SOURCE.md``).
"""
