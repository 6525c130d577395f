"""The terminal UI: a Textual app in its own process, a client of the daemon's control socket only.

Entry points (``meshcare.tui.app``): ``run(settings) -> int`` for the launcher and ``meshcare tui``,
``make_app(connect, ...)`` for tests and embedding. The pure parts (``format``, ``model``, ``render``)
import no Textual; ``client`` and ``session`` speak the control protocol over asyncio, never trio.
"""
