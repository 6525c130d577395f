"""The backup bundle: round trip (hypothesis), hostile bytes, and restoring it as a data directory."""

from __future__ import annotations

import os
import stat

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshcare.backup import bundle as bd
from meshcare.backup import datadir
from meshcare.backup.bundle import Bundle, BundleCircle, BundleJoining
from meshcare.circles.state import CircleEntry, Joining, LocalState
from meshcare.crypto import keys, keystore
from meshcare.errors import BadInput
from meshcare.transport.state_file import LocalStateFile

FAST = {"ops": keystore.OPS_MIN, "mem": keystore.MEM_MIN}
ids = st.binary(min_size=32, max_size=32)
names = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=20)


@st.composite
def circles(draw: st.DrawFn) -> BundleCircle:
    seq = draw(st.integers(0, 2**40))
    return BundleCircle(secret=draw(ids), founder=draw(ids), name=draw(st.text(max_size=10)),
                        joined=draw(st.integers(0, 2**40)), verified=frozenset(draw(st.lists(ids, max_size=3))),
                        roster_keys=draw(st.dictionaries(st.integers(0, 1000), ids, max_size=3)), seq=seq,
                        prev=draw(ids) if seq else b"", avoid=frozenset(draw(st.lists(ids, max_size=3))))


@st.composite
def bundles(draw: st.DrawFn) -> Bundle:
    cs = draw(st.lists(circles(), max_size=4, unique_by=lambda c: (c.secret, c.founder)))
    joining = draw(st.lists(st.builds(BundleJoining, ids, st.text(min_size=1, max_size=40), names,
                                      st.integers(0, 2**40)), max_size=2, unique_by=lambda j: j.invite_key))
    return Bundle(created=draw(st.integers(0, 2**40)), name=draw(names), seed=draw(ids), circles=tuple(cs),
                  joining=tuple(joining),
                  plan=draw(st.none() | st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=30),
                                                        max_size=4)),
                  followups=frozenset(draw(st.lists(ids, max_size=3))),
                  reach=draw(st.dictionaries(ids, st.text(max_size=20), max_size=2)),
                  config_toml=draw(st.none() | st.text(max_size=50)), tui_toml=draw(st.none() | st.text(max_size=50)),
                  outside_contacts=tuple(draw(st.lists(st.text(min_size=1, max_size=30), max_size=3))))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundles())
def test_round_trip(b: Bundle) -> None:
    assert Bundle.from_bytes(b.to_bytes()) == b


@settings(max_examples=40, deadline=None)
@given(bundles())
def test_state_round_trip(b: Bundle) -> None:
    """A bundle made from the state it restores is the same bundle (names aside: the state has none)."""
    identity = b.identity()
    again = Bundle.from_state(identity, b.to_state(), b.created, {c.topic: c.name for c in b.circles})
    assert again.circles == tuple(sorted(b.circles, key=lambda c: c.topic))
    assert (again.joining, again.plan, again.followups, again.reach) == \
        (tuple(sorted(b.joining, key=lambda j: j.invite_key)), b.plan, b.followups, b.reach)


def test_secrets_stay_out_of_repr() -> None:
    b = Bundle(created=1, name="Ann", seed=b"\x07" * 32, circles=(BundleCircle(secret=b"\x09" * 32,
                                                                                 founder=b"\x01" * 32),))
    assert "0707" not in repr(b) and "\\x07" not in repr(b) and "\\t\\t" not in repr(b)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_a_bundle_or_bad_input(data: bytes) -> None:
    try:
        Bundle.from_bytes(data)
    except BadInput:
        pass


def _obj(b: Bundle) -> dict:
    return msgpack.unpackb(b.to_bytes(), raw=False)


def _sample() -> Bundle:
    return Bundle(created=5, name="Ann", seed=b"\x01" * 32,
                  circles=(BundleCircle(secret=b"\x02" * 32, founder=b"\x03" * 32, name="Tuesday", seq=3,
                                        prev=b"\x04" * 32),))


@pytest.mark.parametrize("change, words", [
    (lambda o: o.update(v=2), "format version 2"),
    (lambda o: o.update(seed=b"x" * 31), "'seed'"),
    (lambda o: o.update(name=""), "'name'"),
    (lambda o: o.update(name=7), "'name'"),
    (lambda o: o.pop("circles"), "no 'circles'"),
    (lambda o: o.update(circles=o["circles"] * 2), "appears twice"),
    (lambda o: o.update(circles=[{}]), "no 'roster_keys'"),
    (lambda o: o["circles"][0].update(prev=b"x"), "id of 32 bytes"),
    (lambda o: o["circles"][0].update(seq=0), "only when seq is above 0"),
    (lambda o: o["circles"][0].update(seq=-1), "'seq'"),
    (lambda o: o["circles"][0].update(verified=[b"a"] * 5000), "at most 4096"),
    (lambda o: o["circles"][0].update(extra=1), "unknown keys"),
    (lambda o: o.update(plan={"helps": 3}), "support plan"),
    (lambda o: o.update(config="x" * (bd.MAX_SETTINGS_FILE + 1)), "'config'"),
    (lambda o: o.update(followups=[b"a" * 32, b"a" * 32]), "appears twice"),
    (lambda o: o.update(surprise=True), "unknown keys"),
])
def test_hostile_fields_are_refused_with_words(change, words: str) -> None:
    obj = _obj(_sample())
    change(obj)
    with pytest.raises(BadInput, match=words):
        Bundle.from_bytes(msgpack.packb(obj, use_bin_type=True))


def test_size_cap() -> None:
    with pytest.raises(BadInput, match="more than"):
        Bundle.from_bytes(b"\x00" * (bd.MAX_BUNDLE + 1))
    with pytest.raises(BadInput, match="not valid"):
        Bundle.from_bytes(msgpack.packb([1, 2]))


# --- from the data directory and back ------------------------------------------------------------------


def _node(home, name: str = "Ann") -> tuple[keys.Identity, LocalState]:
    identity = keys.Identity.generate(name)
    home.mkdir(mode=0o700, exist_ok=True)
    keystore.create(home / keystore.FILENAME, identity, None)
    state = LocalState(circles={b"t" * 16: CircleEntry(b"s" * 32, b"f" * 32, {b"v" * 32}, 10, {1: b"k" * 32})},
                       joining={b"i" * 32: Joining("MC1TOKEN", "Ann", 9)}, seq={b"t" * 16: 7},
                       prev={b"t" * 16: b"p" * 32}, plan={"helps": "tea"}, avoid={b"t" * 16: {b"a" * 32}},
                       reach={b"r" * 32: "ring twice"})
    LocalStateFile(home, identity).save(state)
    (home / "config.toml").write_text('log_level = "debug"\n')
    (home / "outside-contacts.txt").write_text("Sam 0123\n")
    return identity, state


def test_from_data_dir_then_restore(tmp_path) -> None:
    identity, state = _node(tmp_path / "old")
    b = bd.from_data_dir(tmp_path / "old", None, 1000)
    assert b.name == "Ann" and b.config_toml == 'log_level = "debug"\n' and b.outside_contacts == ("Sam 0123",)
    assert b.summary()["settings"] == ["config.toml", "outside-contacts.txt"]
    report = bd.restore(Bundle.from_bytes(b.to_bytes()), tmp_path / "new", now=2_000_000_000)
    new = tmp_path / "new"
    assert report.data_dir == new and report.node_id == identity.node_id and report.moved_aside is None
    assert stat.S_IMODE(new.stat().st_mode) == 0o700
    for name in report.files:
        assert stat.S_IMODE((new / name).stat().st_mode) == 0o600
    assert keystore.load(new / keystore.FILENAME, None).seed == identity.seed
    restored = LocalStateFile(new, identity).load()
    topic = next(iter(restored.circles))
    assert restored.circles[topic].secret == b"s" * 32 and restored.circles[topic].roster_keys == {1: b"k" * 32}
    assert restored.plan == {"helps": "tea"} and restored.reach == state.reach
    assert restored.joining == state.joining and restored.avoid[topic] == {b"a" * 32}
    # the chain counter jumped past anything published since the backup, and names the last envelope
    assert restored.seq[topic] == 2_000_000_000 and restored.prev[topic] == b"p" * 32
    assert (new / "config.toml").read_text() == 'log_level = "debug"\n'
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_restore_refuses_an_existing_identity_and_writes_nothing(tmp_path) -> None:
    _node(tmp_path / "old")
    other, _ = _node(tmp_path / "here", "Bob")
    before = {p.name: p.read_bytes() for p in (tmp_path / "here").iterdir()}
    b = bd.from_data_dir(tmp_path / "old", None, 1000)
    with pytest.raises(BadInput, match="already lives in .*--replace"):
        bd.restore(b, tmp_path / "here")
    assert {p.name: p.read_bytes() for p in (tmp_path / "here").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here", "old"]


def test_restore_replace_keeps_the_old_node_aside(tmp_path) -> None:
    identity, _ = _node(tmp_path / "old")
    _node(tmp_path / "here", "Bob")
    report = bd.restore(bd.from_data_dir(tmp_path / "old", None, 1000), tmp_path / "here", replace=True,
                        now=1_700_000_000)
    assert report.moved_aside == tmp_path / "here.before-import-20231114-221320"
    assert keystore.read_public(report.moved_aside / keystore.FILENAME)[0] == "Bob"
    assert keystore.load(tmp_path / "here" / keystore.FILENAME, None).node_id == identity.node_id


def test_restore_with_a_passphrase_locks_the_identity(tmp_path) -> None:
    _node(tmp_path / "old")
    b = bd.from_data_dir(tmp_path / "old", None, 1000)
    datadir.restore(b, tmp_path / "new", passphrase=b"pw", **FAST)
    assert keystore.read_public(tmp_path / "new" / keystore.FILENAME)[2] is True


def test_restore_failing_midway_leaves_nothing(tmp_path, monkeypatch) -> None:
    _node(tmp_path / "old")
    b = bd.from_data_dir(tmp_path / "old", None, 1000)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(datadir, "_write", broken)
    with pytest.raises(OSError):
        bd.restore(b, tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]


def test_restore_into_an_empty_directory(tmp_path) -> None:
    _node(tmp_path / "old")
    (tmp_path / "new").mkdir()
    report = bd.restore(bd.from_data_dir(tmp_path / "old", None, 1000), tmp_path / "new")
    assert report.moved_aside is None and (tmp_path / "new" / keystore.FILENAME).exists()
    assert sorted(os.listdir(tmp_path)) == ["new", "old"]


# --- the op ---------------------------------------------------------------------------------------------


async def test_the_daemon_hands_out_its_bundle(autojump_clock) -> None:
    import base64

    import trio

    from meshcare.control.requests_backup import BackupBundle
    from tests.helpers import founded

    async with trio.open_nursery() as nursery:
        ann = await founded(nursery)
        await ann.request("plan.edit", {"sections": {"helps": "tea"}})
        data = await ann.request("backup.bundle", {})
        result = BackupBundle().read_result(data)
        b = Bundle.from_bytes(base64.b64decode(result.bundle))
        circle = next(iter(ann.node.registry.circles.values()))
        assert result.circles == ("Elm St",) and result.name == "ann" == b.name
        assert result.node_id == bytes(ann.identity.node_id).hex() and b.seed == ann.identity.seed
        assert [(c.name, c.topic, c.secret) for c in b.circles] == [("Elm St", bytes(circle.topic), ann.node.state.circles[circle.topic].secret)]
        assert b.circles[0].seq == ann.node.state.seq[circle.topic] >= 1
        assert b.plan is not None and b.plan["helps"] == "tea"
        nursery.cancel_scope.cancel()


def test_a_failed_rename_puts_the_old_node_back(tmp_path, monkeypatch) -> None:
    _node(tmp_path / "old")
    _node(tmp_path / "here", "Bob")
    b = bd.from_data_dir(tmp_path / "old", None, 1000)
    real = os.rename

    def rename(src, dst):
        if ".import-" in str(src):
            raise OSError(5, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError):
        bd.restore(b, tmp_path / "here", replace=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here", "old"]
    assert keystore.read_public(tmp_path / "here" / keystore.FILENAME)[0] == "Bob"


def test_restore_refuses_a_directory_where_a_daemon_runs(tmp_path) -> None:
    import fcntl

    _node(tmp_path / "old")
    _node(tmp_path / "here", "Bob")
    with open(tmp_path / "here" / "daemon.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write(str(os.getpid()))
        lock.flush()
        with pytest.raises(BadInput, match=f"daemon \\(pid {os.getpid()}\\) runs.*meshcare stop"):
            bd.restore(bd.from_data_dir(tmp_path / "old", None, 1000), tmp_path / "here", replace=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here", "old"]
