"""The control API's typed records (see docs/control.md)."""

# results.py gathers the results of every op, some defined in modules that build on its ``Result``
# (results_ladders.py): importing it first makes any import order of those modules work.
from . import results as _results  # noqa: F401
