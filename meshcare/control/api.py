"""The typed control API in one import: op and event names, requests, results, views, events.

What a client (the CLI, the TUI, a script) needs to talk to the daemon, and nothing of the core: this
package imports only the standard library, ``meshcare.vocab``, ``meshcare.errors`` and (for framing)
``meshcare.wire``. The reference is docs/control.md, generated from these definitions
(``python -m meshcare.control.doc``).

Sending ``CallCreate(circle="Elm St", text="...")`` means ``request.OP`` with ``request.to_data()`` as
its args; the answer is read with ``request.read_result(data)`` (a ``CallCreateResult``). The daemon
reads args with ``REQUESTS[op].from_data(args)``; a subscribed client reads events with ``read_event``.
"""

from __future__ import annotations

from typing import Any

from ..errors import UnknownOp
from . import (events, names, requests, requests_care, requests_gatherings, results, results_care, results_gatherings,
               views, views_gatherings)
from .events import *  # noqa: F403  (the names are listed in __all__ below)
from .names import *  # noqa: F403
from .requests import *  # noqa: F403
from .requests_care import *  # noqa: F403
from .results import *  # noqa: F403
from .results_care import *  # noqa: F403
from .views import *  # noqa: F403
from . import requests_gatherings, results_gatherings, views_gatherings
from .requests_gatherings import *  # noqa: F403
from .results_gatherings import *  # noqa: F403
from .views_gatherings import *  # noqa: F403
from . import requests_ladders, results_ladders, views_ladders
from .requests_ladders import *  # noqa: F403  (ladders and who not to involve: issue 13)
from .results_ladders import *  # noqa: F403
from .views_ladders import *  # noqa: F403

from . import views_doctor
from .views_doctor import *  # noqa: F403  (node.health's records: meshcare doctor)
__all__ = ["read_event", "read_request", "read_result"]
__all__ += names.__all__
__all__ += requests.__all__
__all__ += results.__all__
__all__ += requests_care.__all__ + results_care.__all__
__all__ += views.__all__
__all__ += events.__all__
__all__ += requests_gatherings.__all__ + results_gatherings.__all__ + views_gatherings.__all__
__all__ += requests_ladders.__all__ + results_ladders.__all__ + views_ladders.__all__
__all__ += views_doctor.__all__


def read_request(op: str, args: object) -> requests.Request[Any]:
    """The typed request ``op`` with ``args``, checked. Raises UnknownOp (no such op) or BadInput."""
    cls = requests.REQUESTS.get(op)
    if cls is None:
        raise UnknownOp(f"there is no operation {op!r} (docs/control.md lists them)")
    return cls.from_data(args)


def read_result(op: str, data: object) -> results.Result:
    """The typed result of ``op``, checked. Raises UnknownOp (no such op) or BadInput."""
    cls = results.RESULTS.get(op)
    if cls is None:
        raise UnknownOp(f"there is no operation {op!r} (docs/control.md lists them)")
    return cls.from_data(data)


def read_event(name: str, data: object) -> events.Event | None:
    """The typed event ``name``, checked; None for a name this version does not know (ignore it: a newer
    daemon may send more). Raises BadInput when a known event's data is malformed."""
    cls = events.EVENTS.get(name)
    return None if cls is None else cls.from_data(data)
