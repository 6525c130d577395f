"""`meshcare doctor`: what commonly goes wrong with a node, found and explained with the exact fix.

Each check is a pure judge over facts (``files``, ``node``, ``network``, ``tor``, ``clock``, ``disk``, ``systemd``)
and a thin gatherer (``run``, with the probes of ``probes``); ``findings`` is the vocabulary (ok, info,
warning, problem, error). The CLI is ``meshcare/cli/doctor.py``; docs/operations.md has the table of
findings and what to do.
"""
