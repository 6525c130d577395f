"""The control API's typed records (see docs/control.md).

Nothing is imported here: the records are ~160 dataclasses that take a tenth of a second to build, and the
CLI imports ``control.names``/``control.when`` while it only parses its flags (`meshcare --help` is
measured). Every module here imports what it builds on, in any order (``results_ladders`` derives from
``result_base``, not ``results``, so no cycle needs an order).
"""
