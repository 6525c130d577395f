"""The pure control protocol: message round trips, hello and versions, ids, subscription, hostile bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshcare.control import protocol as control
from meshcare.control.protocol import (CONTROL_VERSION, MAX_MESSAGE_SIZE, ControlConnection, Event, Hello, Reply,
                              ReplyError, Request, Role, decode_message, encode_message)
from meshcare.errors import BadInput, LocalProtocolError, RemoteProtocolError, UnsupportedVersion
from meshcare.wire import HEADER, encode_frame, pack


def body(frame: bytes) -> bytes:
    return frame[HEADER.size:]


def raw(obj: object) -> bytes:
    """A framed message built by hand (to say things ControlConnection would never send)."""
    return encode_frame(pack(obj), MAX_MESSAGE_SIZE)


def pair() -> tuple[ControlConnection, ControlConnection]:
    """A client and a daemon that exchanged hellos."""
    client, daemon = ControlConnection(Role.CLIENT), ControlConnection(Role.DAEMON)
    assert daemon.receive_data(client.send_hello()) == [Hello(CONTROL_VERSION, Role.CLIENT)]
    assert client.receive_data(daemon.send_hello()) == [Hello(CONTROL_VERSION, Role.DAEMON)]
    return client, daemon


plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text()
    | st.binary(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20)
maps = st.dictionaries(st.text(), plain, max_size=5)
names = st.text(min_size=1)
ids = st.integers(1, 2**63 - 1)


# --- messages -------------------------------------------------------------------------------------


@given(ids, names, maps)
def test_request_round_trip(request_id, op, args):
    message = Request(request_id, op, args)
    assert decode_message(body(encode_message(message))) == message


@given(ids, maps)
def test_ok_reply_round_trip(request_id, result):
    message = Reply(request_id, result=result)
    decoded = decode_message(body(encode_message(message)))
    assert decoded == message and decoded.ok


@given(ids, names, st.text())
def test_error_reply_round_trip(request_id, kind, text):
    message = Reply(request_id, error=ReplyError(kind, text))
    decoded = decode_message(body(encode_message(message)))
    assert decoded == message and not decoded.ok


@given(names, maps)
def test_event_round_trip(name, data):
    message = Event(name, data)
    assert decode_message(body(encode_message(message))) == message


@pytest.mark.parametrize("role", list(Role))
def test_hello_round_trip(role):
    assert decode_message(body(encode_message(Hello(CONTROL_VERSION, role)))) == Hello(CONTROL_VERSION, role)


def test_wire_shapes_are_the_documented_ones():
    """docs/control.md shows these maps; other implementations rely on them."""
    from meshcare.wire import unpack_strict
    assert unpack_strict(body(encode_message(Hello(1, Role.CLIENT)))) == {"t": "hello", "version": 1,
                                                                          "role": "client"}
    assert unpack_strict(body(encode_message(Request(3, "status", {})))) == {"t": "req", "id": 3, "op": "status",
                                                                            "args": {}}
    assert unpack_strict(body(encode_message(Reply(3, result={"a": 1})))) == {"t": "res", "id": 3, "ok": True,
                                                                              "result": {"a": 1}}
    assert unpack_strict(body(encode_message(Reply(3, error=ReplyError("failed", "no"))))) == {
        "t": "res", "id": 3, "ok": False, "error": {"kind": "failed", "message": "no"}}
    assert unpack_strict(body(encode_message(Event("x", {})))) == {"t": "ev", "name": "x", "data": {}}


def test_reply_needs_exactly_one_of_result_and_error():
    with pytest.raises(LocalProtocolError):
        Reply(1)
    with pytest.raises(LocalProtocolError):
        Reply(1, result={}, error=ReplyError("failed", "x"))


@pytest.mark.parametrize("bad", [
    {"t": "req", "id": 1, "op": "status"},                                   # missing args
    {"t": "req", "id": 1, "op": "status", "args": {}, "extra": 1},           # unknown key
    {"t": "req", "id": 0, "op": "status", "args": {}},                       # ids start at 1
    {"t": "req", "id": True, "op": "status", "args": {}},                    # bool is not an int
    {"t": "req", "id": 1, "op": "", "args": {}},
    {"t": "req", "id": 1, "op": b"status", "args": {}},
    {"t": "req", "id": 1, "op": "status", "args": []},
    {"t": "req", "id": 1, "op": "status", "args": {"a": {1: 2}}},            # non-string key inside
    {"t": "res", "id": 1, "ok": 1, "result": {}},
    {"t": "res", "id": 1, "ok": True, "error": {"kind": "x", "message": "y"}},
    {"t": "res", "id": 1, "ok": False, "error": {"kind": "x"}},
    {"t": "res", "id": 1, "ok": False, "error": {"kind": "", "message": "y"}},
    {"t": "res", "id": 1, "ok": False, "error": {"kind": "x", "message": 3}},
    {"t": "ev", "name": "x", "data": None},
    {"t": "hello", "version": "1", "role": "client"},
    {"t": "hello", "version": 1, "role": "admin"},
    {"t": "hello", "version": 1, "role": ["client"]},
    {"t": "bye"},
    {"t": 1},
    {},
    [1, 2],
    "hello",
])
def test_malformed_messages_are_the_peers_fault(bad):
    with pytest.raises(RemoteProtocolError):
        decode_message(pack(bad))


def test_deep_nesting_is_rejected_without_recursion():
    deep: object = "x"
    for _ in range(control.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(RemoteProtocolError, match="nested"):
        decode_message(pack({"t": "ev", "name": "x", "data": {"d": deep}}))
    with pytest.raises(LocalProtocolError, match="nested"):
        encode_message(Event("x", {"d": deep}))


@pytest.mark.parametrize("value", [(1, 2), {1, 2}, 2**64, object(), {"k": {3: "v"}}])
def test_only_plain_data_can_be_sent(value):
    with pytest.raises(LocalProtocolError):
        encode_message(Event("x", {"v": value}))


def test_hello_may_carry_more_keys_for_later_versions():
    assert decode_message(pack({"t": "hello", "version": 1, "role": "daemon", "features": ["x"]})) == \
        Hello(1, Role.DAEMON)


# --- the connection -------------------------------------------------------------------------------


def test_request_reply_round_trip_over_connections():
    client, daemon = pair()
    request_id, data = client.send_request("status", {"verbose": True})
    assert daemon.receive_data(data) == [Request(request_id, "status", {"verbose": True})]
    assert daemon.outstanding == {request_id}
    reply = daemon.send_reply(request_id, {"name": "Ana", "node_id": b"\x01" * 32})
    assert client.receive_data(reply) == [Reply(request_id, result={"name": "Ana", "node_id": b"\x01" * 32})]
    assert client.outstanding == daemon.outstanding == frozenset()


def test_hello_goes_out_first_and_once():
    client, daemon = ControlConnection(Role.CLIENT), ControlConnection(Role.DAEMON)
    _, data = client.send_request("status")
    messages = daemon.receive_data(data)
    assert messages == [Hello(CONTROL_VERSION, Role.CLIENT), Request(1, "status", {})]
    assert client.send_hello() == b""
    _, again = client.send_request("peers")
    assert daemon.receive_data(again) == [Request(2, "peers", {})]


def test_client_and_daemon_hellos_can_cross():
    client, daemon = ControlConnection(Role.CLIENT), ControlConnection(Role.DAEMON)
    to_daemon, to_client = client.send_request("status")[1], daemon.send_hello()
    assert daemon.receive_data(to_daemon)[1] == Request(1, "status", {})
    assert client.receive_data(to_client + daemon.send_reply(1, {})) == [Hello(CONTROL_VERSION, Role.DAEMON),
                                                                         Reply(1, result={})]


def test_request_ids_increase():
    client, _ = pair()
    allocated = [client.send_request("status")[0] for _ in range(5)]
    assert allocated == sorted(set(allocated)) and allocated[0] >= 1


def test_replies_may_come_in_any_order():
    client, daemon = pair()
    first, second = (daemon.receive_data(client.send_request(op)[1])[0] for op in ("status", "peers"))
    assert client.receive_data(daemon.send_error(second.id, "not-found", "no such peer")) == [
        Reply(second.id, error=ReplyError("not-found", "no such peer"))]
    assert client.receive_data(daemon.send_reply(first.id, {}))[0].id == first.id


def test_version_mismatch_says_what_to_do():
    client = ControlConnection(Role.CLIENT)
    with pytest.raises(UnsupportedVersion, match="version 2.*same meshcare version"):
        client.receive_data(raw({"t": "hello", "version": 2, "role": "daemon"}))
    daemon = ControlConnection(Role.DAEMON)
    with pytest.raises(UnsupportedVersion, match="client speaks control protocol version 0"):
        daemon.receive_data(raw({"t": "hello", "version": 0, "role": "client"}))


def test_wrong_role_in_hello():
    with pytest.raises(RemoteProtocolError, match="expected a daemon"):
        ControlConnection(Role.CLIENT).receive_data(raw({"t": "hello", "version": 1, "role": "client"}))


def test_messages_before_hello_or_second_hello_are_rejected():
    with pytest.raises(RemoteProtocolError, match="before its hello"):
        ControlConnection(Role.DAEMON).receive_data(raw({"t": "req", "id": 1, "op": "status", "args": {}}))
    client, daemon = pair()
    with pytest.raises(RemoteProtocolError, match="second hello"):
        daemon.receive_data(raw({"t": "hello", "version": 1, "role": "client"}))


def test_daemon_rejects_ids_that_do_not_increase():
    client, daemon = pair()
    daemon.receive_data(raw({"t": "req", "id": 5, "op": "status", "args": {}}))
    with pytest.raises(RemoteProtocolError, match="does not increase"):
        daemon.receive_data(raw({"t": "req", "id": 5, "op": "status", "args": {}}))


def test_reply_to_unknown_id_is_the_daemons_fault():
    client, daemon = pair()
    with pytest.raises(RemoteProtocolError, match="not waiting for"):
        client.receive_data(raw({"t": "res", "id": 9, "ok": True, "result": {}}))


def test_duplicate_reply_is_the_daemons_fault():
    client, daemon = pair()
    request_id, data = client.send_request("status")
    daemon.receive_data(data)
    reply = daemon.send_reply(request_id, {})
    client.receive_data(reply)
    with pytest.raises(RemoteProtocolError):
        client.receive_data(reply)


def test_answering_twice_is_our_bug_and_changes_nothing():
    client, daemon = pair()
    request_id, data = client.send_request("status")
    daemon.receive_data(data)
    daemon.send_reply(request_id, {})
    with pytest.raises(LocalProtocolError, match="already answered"):
        daemon.send_error(request_id, "failed", "again")
    with pytest.raises(LocalProtocolError):
        daemon.send_reply(42, {})


def test_unsendable_result_leaves_the_request_outstanding():
    client, daemon = pair()
    request_id, data = client.send_request("status")
    daemon.receive_data(data)
    with pytest.raises(LocalProtocolError, match="tuple"):
        daemon.send_reply(request_id, {"links": (1, 2)})
    assert daemon.outstanding == {request_id}
    assert client.receive_data(daemon.send_error(request_id, "failed", "internal error"))[0].error.kind == "failed"


def test_roles_send_only_their_messages():
    client, daemon = pair()
    with pytest.raises(LocalProtocolError):
        client.send_reply(1, {})
    with pytest.raises(LocalProtocolError):
        client.send_event("x", {})
    with pytest.raises(LocalProtocolError):
        daemon.send_request("status")
    with pytest.raises(RemoteProtocolError, match="only a client may send"):
        client.receive_data(raw({"t": "req", "id": 1, "op": "status", "args": {}}))


def test_events_flow_only_after_subscribe():
    client, daemon = pair()
    with pytest.raises(LocalProtocolError, match="not subscribed"):
        daemon.send_event("peer-linked", {})
    request_id, data = client.send_request("subscribe")
    daemon.receive_data(data)
    with pytest.raises(LocalProtocolError):  # not before the ok reply went out
        daemon.send_event("peer-linked", {})
    out = daemon.send_reply(request_id, {}) + daemon.send_event("peer-linked", {"node_id": "ab"})
    assert daemon.subscribed
    assert client.receive_data(out) == [Reply(request_id, result={}), Event("peer-linked", {"node_id": "ab"})]
    assert client.subscribed


def test_client_rejects_events_it_did_not_ask_for():
    client, _ = pair()
    with pytest.raises(RemoteProtocolError, match="before this client subscribed"):
        client.receive_data(raw({"t": "ev", "name": "x", "data": {}}))


def test_failed_subscribe_opens_no_stream():
    client, daemon = pair()
    request_id, data = client.send_request("subscribe")
    daemon.receive_data(data)
    client.receive_data(daemon.send_error(request_id, "failed", "no"))
    assert not client.subscribed and not daemon.subscribed


def test_oversized_message_is_refused_both_ways():
    client, daemon = pair()
    with pytest.raises(LocalProtocolError, match="cap"):
        client.send_request("status", {"blob": b"x" * MAX_MESSAGE_SIZE})
    with pytest.raises(RemoteProtocolError):
        daemon.receive_data(HEADER.pack(MAX_MESSAGE_SIZE + 1))


def test_a_failed_connection_stays_failed():
    client, daemon = pair()
    with pytest.raises(RemoteProtocolError):
        daemon.receive_data(b"\x00\x00\x00\x01\xc1")  # 0xc1 is never valid msgpack
    with pytest.raises(RemoteProtocolError):
        daemon.receive_data(client.send_request("status")[1])


def test_byte_at_a_time_delivery():
    client, daemon = ControlConnection(Role.CLIENT), ControlConnection(Role.DAEMON)
    data = client.send_request("status", {"a": [1, 2, 3]})[1]
    got = [m for i in range(len(data)) for m in daemon.receive_data(data[i:i + 1])]
    assert got == [Hello(CONTROL_VERSION, Role.CLIENT), Request(1, "status", {"a": [1, 2, 3]})]


def test_socket_path_length_is_checked(tmp_path):
    control.check_socket_path(tmp_path / "c.sock")
    with pytest.raises(BadInput, match="shorter data directory"):
        control.check_socket_path(tmp_path / ("x" * 120) / "control.sock")


# --- hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
@given(chunks=st.lists(st.binary(max_size=64), max_size=6))
def test_arbitrary_bytes_raise_only_remote_protocol_error(role, chunks):
    conn = ControlConnection(role)
    for chunk in chunks:
        try:
            conn.receive_data(chunk)
        except RemoteProtocolError:
            return


@pytest.mark.parametrize("role", list(Role))
@given(objs=st.lists(plain | maps | st.fixed_dictionaries({"t": st.sampled_from(["hello", "req", "res", "ev"])},
                                                         optional={"id": plain, "op": plain, "args": plain,
                                                                   "ok": plain, "result": plain, "error": plain,
                                                                   "name": plain, "data": plain,
                                                                   "version": plain, "role": plain}),
                     max_size=4))
def test_arbitrary_well_framed_objects_raise_only_remote_protocol_error(role, objs):
    conn = ControlConnection(role)
    hello = raw({"t": "hello", "version": 1, "role": "daemon" if role is Role.CLIENT else "client"})
    try:
        conn.receive_data(hello + b"".join(raw(o) for o in objs))
    except RemoteProtocolError:
        pass


_ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=3)
    | st.binary(max_size=3) | st.tuples(st.integers()) | st.sets(st.integers(), max_size=2),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=2) | st.integers() | st.binary(max_size=2), inner, max_size=3),
    max_leaves=12)


@given(_ANY_VALUE)
def test_data_problem_agrees_with_its_path_naming_slow_path(value: object) -> None:
    """The check runs a fast pass and names the path only for data that fails: the two must agree on
    every value, or a bad event would pass (or a good one be refused) without the message saying why."""
    problem = control.data_problem(value, "data")
    assert (problem is None) == (control._explain(value, "data") is None)
    assert problem == control._explain(value, "data")


def test_data_problem_refuses_nesting_past_the_limit_in_both_passes() -> None:
    deep: object = 1
    for _ in range(control.MAX_DEPTH + 1):
        deep = [deep]
    problem = control.data_problem({"a": deep}, "data")
    assert problem is not None and "nested more than" in problem


def test_an_event_is_checked_once_unless_its_publisher_already_did() -> None:
    """EventHub.publish checks what it fans out; the connection checks every other event itself."""
    client, daemon = pair()
    request_id, data = client.send_request("subscribe")
    daemon.receive_data(data)
    client.receive_data(daemon.send_reply(request_id, {}))
    with pytest.raises(LocalProtocolError):
        daemon.send_event("tick", {"bad": {1, 2}})
    good = daemon.send_event("tick", {"n": 1}, checked=True)
    assert client.receive_data(good) == [Event("tick", {"n": 1})]
