"""The op table: one explicit mapping, findable by grep, each op typed by its request and result.

mypy checks each ``Op(request class, function)`` where the table is written; these tests hold the rest:
the table names exactly the API's ops (the shell adds ``status``, ``peers`` and ``snapshot``), each op
reads the request class ``REQUESTS`` registers for its name and its function declares that request and
the request's result (what mypy saw), every name is written where grep finds it, and the adapter answers
an unknown op with ``UnknownOp`` and bad arguments with the request's own BadInput.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Mapping
from pathlib import Path

import pytest

import meshcare.ops
from meshcare.control import names as n
from meshcare.control.requests import REQUESTS
from meshcare.errors import BadInput, UnknownOp
from meshcare.node_events import Effect
from meshcare.ops import OPS, Op, Operation, perform
from meshcare.ops.bench import BENCH_OPS

from .helpers import make_daemon
from .nodenet import NodeNet

SHELL_OPS = {n.OP_STATUS, n.OP_PEERS, n.OP_SNAPSHOT}


def _check_typed(table: Mapping[str, Operation]) -> None:
    for name, op in table.items():
        assert isinstance(op, Op), name
        cls = typing.cast(type, op.request)
        assert cls.OP == name
        hints = typing.get_type_hints(op.run)
        req, = (t for k, t in hints.items() if k not in ("node", "now", "self", "return"))
        assert req is cls, name
        assert hints["return"] == tuple[cls.RESULT, list[Effect]], name


def test_the_table_holds_every_op_of_the_api_but_the_shells_own():
    assert set(OPS) == set(REQUESTS) - SHELL_OPS - {n.OP_SUBSCRIBE}
    assert all(op.request is REQUESTS[name] for name, op in OPS.items() if isinstance(op, Op))
    _check_typed(OPS)


def test_the_daemon_adds_status_peers_and_snapshot_typed_too():
    daemon = make_daemon("ann")
    ops = daemon._ops
    assert set(ops) == set(OPS) | SHELL_OPS
    _check_typed({name: ops[name] for name in SHELL_OPS})


def test_the_bench_ops_are_typed_and_apart():
    assert set(BENCH_OPS) == {"topic.join", "topic.publish", "topic.ids"}
    assert not set(BENCH_OPS) & set(REQUESTS)
    _check_typed(BENCH_OPS)


def test_every_op_name_is_written_beside_its_entry():
    """``grep call.create`` finds the table: each entry's line carries its name as written in names.py."""
    source = Path(inspect.getfile(meshcare.ops)).read_text(encoding="utf-8")
    for name in OPS:
        constant = next(k for k, value in vars(n).items() if k.startswith("OP_") and value == name)
        line = next(l for l in source.splitlines() if f"n.{constant}:" in l)
        assert re.search(rf'# "{re.escape(name)}"$', line.rstrip()), line


def test_the_adapter_reads_the_request_and_writes_the_result():
    net = NodeNet("ann")
    net.start("ann")
    node = net.nodes["ann"]
    with pytest.raises(UnknownOp, match="no operation 'circle.frobnicate'"):
        perform(OPS, "circle.frobnicate", node, {}, net.now)
    with pytest.raises(BadInput, match="the circle's name is missing"):
        perform(OPS, "circle.create", node, {}, net.now)
    data, effects = perform(OPS, "circle.create", node, {"name": "Elm St", "retention_days": 14}, net.now)
    assert data["circle"]["name"] == "Elm St" and data["circle"]["settings"]["retention_days"] == 14
    assert effects                                   # the founding roster op, to persist and publish
    net.apply("ann", effects)
    listed, _ = perform(OPS, "circle.list", node, {}, net.now)
    assert REQUESTS["circle.list"].RESULT.from_data(listed).to_data() == listed
