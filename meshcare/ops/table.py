"""One entry of the op table: a typed request class paired with the function that answers it. Pure.

An op function reads its typed request and returns its typed result and the effects for the shell::

    def call_create(node: Node, req: CallCreate, now: float) -> tuple[CallCreateResult, list[Effect]]

``Op(CallCreate, call_create)`` pairs them, and mypy checks the pair where the table is written: the
function must take a ``CallCreate`` and return the result ``CallCreate`` is answered by
(``Request[CallCreateResult]``); any other function is a type error on that line. The table's values
are ``Operation``: all the shell needs is ``perform``, the one adapter from wire data to wire data
(``request.from_data(args)`` -> the function -> ``result.to_data()``), so the table needs no ``Any``.

Data in, data out: ``from_data`` checks the arguments (BadInput naming the argument as a person would),
the function checks what needs the node's state (NotFound, BadInput), and ``to_data`` writes the keys:
the typed records are the only place JSON keys are written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from ..control.protocol import Data
from ..control.request_base import Request
from ..control.results import Result
from ..errors import UnknownOp
from ..node import Node
from ..node_events import Effect

__all__ = ["Op", "Operation", "RequestClass", "perform"]

Q = TypeVar("Q", bound=Request[Any])
Q_co = TypeVar("Q_co", covariant=True)
R = TypeVar("R", bound=Result)


class RequestClass(Protocol[Q_co, R]):
    """A request class as the table sees it: it reads a ``Q`` from data, and it builds requests answered
    by ``R``. (``Request`` is invariant in its result, so ``R`` is exactly the request's result class.)"""

    def from_data(self, data: object, /) -> Q_co: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Request[R]: ...


class Operation(Protocol):
    """What the shell calls: one op, from the request's data to the result's data and the effects."""

    def perform(self, node: Node, args: Data, now: float) -> tuple[Data, list[Effect]]: ...


@dataclass(frozen=True, slots=True)
class Op(Generic[Q, R]):
    """An op: ``request`` (its class, ``REQUESTS[name]``) and ``run``, the function that answers it."""

    request: RequestClass[Q, R]
    run: Callable[[Node, Q, float], tuple[R, list[Effect]]]

    def perform(self, node: Node, args: Data, now: float) -> tuple[Data, list[Effect]]:
        """Read the request from ``args``, run the op, write its result. Raises BadInput (NotFound) with
        a message for the person; the effects must be carried out whatever the result is used for."""
        result, effects = self.run(node, self.request.from_data(args), now)
        return result.to_data(), effects


def perform(table: Mapping[str, Operation], op: str, node: Node, args: Data,
            now: float) -> tuple[Data, list[Effect]]:
    """Run ``op`` of ``table`` on ``args``: its result's data and its effects. Raises UnknownOp for an op
    the table does not have (the client hears ``unknown-op``), or whatever the op raises."""
    operation = table.get(op)
    if operation is None:
        raise UnknownOp(f"this daemon has no operation {op!r}")
    return operation.perform(node, args, now)
