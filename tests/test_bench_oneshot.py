"""benchmarks/bench_oneshot.py (one message per request, meshcare against LXMF): what it computes, the
worker protocol both sides parse, and short real runs. Timings are never asserted, only that every
message arrived and the output has its keys.

The LXMF side runs here against tests/oneshot_fake_peer.py, which speaks the worker protocol over plain
TCP: rns and lxmf are not in the project's venv (they are installed by `make bench-peers`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_oneshot  # noqa: E402
from oneshot import figures, lxmf_nodes, meshcare_nodes, runs  # noqa: E402
from oneshot import meshcare_worker as mw  # noqa: E402
from oneshot import worker_protocol as wp  # noqa: E402

FAKE_PEER = Path(__file__).resolve().parent / "oneshot_fake_peer.py"
ME, OTHER = "aa" * 32, "bb" * 32


# --- the worker protocol ------------------------------------------------------------------------

def test_a_body_starts_with_its_number_and_has_the_size_asked() -> None:
    text = wp.body(42, 200)
    assert len(text.encode()) == 200 and text.startswith("00000042")
    assert wp.number_of(text) == 42
    assert wp.number_of("1234567x") is None and wp.number_of("12") is None and wp.number_of("") is None
    with pytest.raises(wp.ProtocolError):
        wp.body(1, 7)
    with pytest.raises(wp.ProtocolError):
        wp.body(10 ** 8, 200)


def test_every_kind_of_worker_line_is_read() -> None:
    assert wp.parse_worker_line('{"ready": true, "address": "ab12"}') == wp.WorkerLine("ready", address="ab12")
    assert wp.parse_worker_line('{"sent": 3, "t": 1.5, "id": "ff"}') == wp.WorkerLine("sent", n=3, t=1.5, id="ff")
    assert wp.parse_worker_line('{"delivered": 3, "t": 2}') == wp.WorkerLine("delivered", n=3, t=2.0)
    assert wp.parse_worker_line('{"delivered": null, "id": "ff", "t": 2}') == wp.WorkerLine("delivered", t=2.0, id="ff")
    assert wp.parse_worker_line('{"acked": 3, "t": 2.5}').kind == "acked"
    stats = wp.parse_worker_line('{"stats": {"cpu_s": 0.5, "rss_kib": 100, "wire_in": null, "wire_out": 7}}')
    assert stats.stats == {"cpu_s": 0.5, "rss_kib": 100, "wire_in": None, "wire_out": 7}
    assert wp.parse_worker_line('{"error": "no path"}').error == "no path"


@pytest.mark.parametrize("line", ["", "not json", "[1]", "{}", '{"hello": 1}', '{"sent": -1, "t": 1}',
                                  '{"sent": 1}', '{"sent": true, "t": 1}', '{"delivered": null, "t": 1}',
                                  '{"ready": false}', '{"stats": [1]}', '{"stats": {"cpu_s": "x"}}',
                                  '{"sent": 1, "t": 1, "id": 5}'])
def test_a_line_that_is_not_the_protocol_is_refused_with_it_quoted(line: str) -> None:
    with pytest.raises(wp.ProtocolError):
        wp.parse_worker_line(line)


def test_commands_are_read_and_checked() -> None:
    assert wp.parse_command(wp.encode(wp.send_command(5, 200, "abc"))) == wp.Command("send", 5, 200, "abc")
    assert wp.parse_command('{"cmd": "stats"}') == wp.Command("stats")
    assert wp.parse_command('{"cmd": "quit"}\n') == wp.Command("quit")
    for bad in ('{"cmd": "fly"}', '{"cmd": "send", "n": 1, "size": 4, "to": ""}',
                '{"cmd": "send", "n": 1, "size": 200, "to": 3}', '{"cmd": "send", "size": 200}'):
        with pytest.raises(wp.ProtocolError):
            wp.parse_command(bad)


# --- the meshcare worker: which events are deliveries ------------------------------------------------

def _line(name: str, data: dict[str, Any], path: str) -> dict[str, Any] | None:
    return mw.delivered_line(name, data, path=path, me=ME, topic="11" * 16, t=5.0)


def test_topic_path_delivers_envelopes_of_others_in_the_topic_by_id() -> None:
    ev = {"id": "cc" * 32, "topic": "11" * 16, "author": OTHER, "lane": 0}
    assert _line("envelope", ev, "topic") == {"delivered": None, "id": "cc" * 32, "t": 5.0}
    assert _line("envelope", {**ev, "author": ME}, "topic") is None
    assert _line("envelope", {**ev, "topic": "22" * 16}, "topic") is None
    assert _line("circle", ev, "topic") is None


def test_call_path_delivers_a_new_call_of_someone_else_by_the_number_in_its_text() -> None:
    ev = {"circle": "11" * 16, "call": "dd" * 32, "change": "new", "parts": [],
          "view": {"caller": OTHER, "text": wp.body(7, 200)}}
    assert _line("call.changed", ev, "call") == {"delivered": 7, "id": "dd" * 32, "t": 5.0}
    assert _line("call.changed", {**ev, "change": "updated"}, "call") is None
    assert _line("call.changed", {**ev, "view": {"caller": ME, "text": wp.body(7, 200)}}, "call") is None
    assert _line("call.changed", {**ev, "view": {"caller": OTHER, "text": "help"}}, "call") is None
    assert _line("call.changed", {**ev, "view": None}, "call") is None


def test_call_circle_path_delivers_the_circle_event_of_others_posts_by_id() -> None:
    ev = {"circle": "11" * 16, "author": OTHER, "id": "ee" * 32, "roster": False}
    assert _line("circle", ev, "call-circle") == {"delivered": None, "id": "ee" * 32, "t": 5.0}
    assert _line("circle", {**ev, "roster": True}, "call-circle") is None
    assert _line("circle", {**ev, "author": ME}, "call-circle") is None


def test_an_invite_token_is_handed_over_without_the_inviters_address() -> None:
    from meshcare.circles.invites import Token, parse_token
    token = Token(b"t" * 16, b"f" * 32, b"s" * 32, 2_000_000_000, "bench", ("127.0.0.1:4000",)).encode()
    stripped = parse_token(meshcare_nodes.without_addresses(token))
    assert stripped.hints == () and stripped.seed == b"s" * 32 and stripped.circle_name == "bench"


# --- the driver's bookkeeping ------------------------------------------------------------------------

def test_a_delivery_known_only_by_id_is_matched_with_the_sent_line_whichever_comes_first() -> None:
    tracker = runs.Tracker()
    tracker.write(1, 10.0)
    tracker.write(2, 11.0)
    assert tracker.take(wp.WorkerLine("sent", n=1, t=10.001, id="a1")) == []
    assert tracker.take(wp.WorkerLine("delivered", t=10.004, id="a1")) == [1]
    assert tracker.take(wp.WorkerLine("delivered", t=11.003, id="b2")) == []     # before its sent line
    assert tracker.take(wp.WorkerLine("sent", n=2, t=11.002, id="b2")) == [2]
    assert tracker.take(wp.WorkerLine("delivered", n=2, t=12.0)) == []           # a second delivery
    assert tracker.take(wp.WorkerLine("delivered", t=12.0, id="zz")) == []       # not a sent message
    assert tracker.take(wp.WorkerLine("delivered", n=9, t=12.0)) == []           # never written
    assert tracker.latencies_ms(range(1, 3)) == pytest.approx([4.0, 3.0])
    assert tracker.api_ms(range(1, 3)) == pytest.approx([1.0, 2.0])


def test_percentiles_by_rank_as_bench_daemon_takes_them() -> None:
    values = [float(v) for v in range(1, 101)]
    assert figures.pct(values, 0.5) == 51.0 and figures.pct(values, 0.99) == 100.0
    assert figures.pct([3.0], 0.99) == 3.0 and figures.pct([2.0, 1.0], 0.0) == 1.0
    with pytest.raises(ValueError):
        figures.pct([], 0.5)
    with pytest.raises(ValueError):
        figures.pct([1.0], 1.5)


def _run(row: str, p50: float, per_s: float, rss: float, topology: str = "pair") -> dict[str, Any]:
    return {"row": row, "topology": topology, "mode": "closed", "messages": 10, "delivered": 10, "lost": 0,
            "latency_ms": {"p50": p50, "p99": p50 * 2}, "per_s": per_s, "cpu_ms_per_message": 1.0,
            "wire_bytes_per_message": {"A-B": 400.0}, "rss_node_mib": {"A": rss, "B": rss},
            "rss_mib": {"A worker" if row == "lxmf" else "A daemon": rss}, "errors": [], "notes": ["lifted"]}


def test_runs_are_grouped_by_row_topology_and_mode_with_medians_and_every_value() -> None:
    groups = figures.group([_run("meshcare/topic", 2.0, 400, 50), _run("lxmf", 1.0, 500, 40),
                            _run("meshcare/topic", 4.0, 300, 52), _run("lxmf", 3.0, 700, 41),
                            _run("meshcare/topic", 3.0, 350, 51)])
    assert [g.key for g in groups] == [("meshcare/topic", "pair", "closed"), ("lxmf", "pair", "closed")]
    mesh = groups[0]
    assert mesh.runs == 3 and mesh.delivered == 30 and mesh.notes == ["lifted"]
    assert mesh.values["latency_ms.p50"] == [2.0, 4.0, 3.0] and mesh.medians["latency_ms.p50"] == 3.0
    assert mesh.medians["wire_bytes_per_message.A-B"] == 400.0


def test_ratios_divide_each_row_by_lxmf_in_the_same_topology_and_mode() -> None:
    groups = figures.group([_run("meshcare/topic", 2.0, 400, 50), _run("meshcare/call", 4.0, 100, 60),
                            _run("lxmf", 1.0, 500, 40), _run("meshcare/topic", 9.0, 1, 1, topology="chain")])
    found = {(r.row, r.topology): r for r in figures.ratios(groups)}
    assert set(found) == {("meshcare/topic", "pair"), ("meshcare/call", "pair")}   # no LXMF chain run
    topic = found[("meshcare/topic", "pair")].values
    assert topic["latency_ms.p50"] == pytest.approx(2.0) and topic["per_s"] == pytest.approx(0.8)
    assert topic["rss_node_mib.A"] == pytest.approx(1.25) and "rss_mib.A daemon" not in topic
    assert figures.ratio(1.0, 0.0) is None and figures.ratio(None, 1.0) is None


def test_the_tables_align_their_columns_and_the_report_names_what_ran() -> None:
    assert figures.table(("a", "bb"), [("xyz", "1"), ("q", "22.5")]).splitlines() == \
        ["a      bb", "xyz     1", "q    22.5"]
    assert figures.num(None) == "-" and figures.num(14398.2) == "14,398" and figures.num(1.23456) == "1.23"
    groups = figures.group([_run("meshcare/topic", 2.0, 400, 50), _run("lxmf", 1.0, 500, 40)])
    text = figures.report(groups, figures.ratios(groups), rounds=1)
    assert "meshcare/topic" in text and "meshcare/topic / lxmf" in text and "A-B 400" in text


def test_the_lxmf_command_line_follows_the_worker_protocol() -> None:
    ports = {"A": 1, "R": 2, "C": 3}
    argv = lxmf_nodes.argv_for(Path("/py"), "A", "chain", Path("/d"), ports, ["--x"])
    assert argv == ["/py", str(lxmf_nodes.WORKER), "--role", "sender", "--dir", "/d", "--listen-port", "1",
                    "--connect-port", "2", "--x"]
    assert "--connect-port" not in lxmf_nodes.argv_for(Path("/py"), "R", "chain", Path("/d"), ports, [])
    assert lxmf_nodes.argv_for(Path("/py"), "C", "chain", Path("/d"), ports, [])[3] == "receiver"


def test_bad_flags_are_refused_with_the_choices() -> None:
    with pytest.raises(SystemExit):
        bench_oneshot.parse_args(["--modes", "closed,sideways"])
    with pytest.raises(SystemExit):
        bench_oneshot.parse_args(["--systems", "lxmf", "--lxmf-python", "/nonexistent/python"])
    assert bench_oneshot.parse_args(["--topologies", "chain,pair,chain"]).topologies == ["chain", "pair"]


# --- real runs -------------------------------------------------------------------------------------

@pytest.fixture
def fake_lxmf(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The LXMF side played by tests/oneshot_fake_peer.py (run by this interpreter)."""
    monkeypatch.setattr(lxmf_nodes, "WORKER", FAKE_PEER)
    return ["--lxmf-python", sys.executable]


def _main(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict[str, Any]]:
    code = bench_oneshot.main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_the_lxmf_side_runs_every_topology_and_mode_through_the_worker_protocol(
        capsys: pytest.CaptureFixture[str], fake_lxmf: list[str]) -> None:
    code, out = _main(capsys, ["--systems", "lxmf", *fake_lxmf, "--messages", "15", "--warmup", "2"])
    assert code == 0
    assert [(r["topology"], r["mode"]) for r in out["runs"]] == [
        ("pair", "closed"), ("pair", "open"), ("chain", "closed"), ("chain", "open")]
    for run in out["runs"]:
        assert run["delivered"] == 15 and run["lost"] == 0 and run["acked"] == 15
        assert run["errors"] and all("not the protocol" in e for e in run["errors"])    # its log lines
        assert set(run["rss_node_mib"]) == ({"A", "B"} if run["topology"] == "pair" else {"A", "R", "C"})
    chain = out["runs"][2]["wire_bytes_per_message"]
    assert set(chain) == {"A-R", "R-C"} and all(v > 0 for v in chain.values())


@pytest.mark.timeout(60)
def test_two_real_daemons_deliver_every_message_one_request_at_a_time_beside_the_lxmf_side(
        capsys: pytest.CaptureFixture[str], fake_lxmf: list[str]) -> None:
    code, out = _main(capsys, ["--systems", "meshcare,lxmf", *fake_lxmf, "--meshcare-paths", "topic",
                               "--topologies", "pair", "--modes", "closed", "--messages", "20", "--warmup", "3"])
    assert code == 0, out["runs"]
    mesh, lxmf = out["runs"]
    assert lxmf["delivered"] == 20
    assert (mesh["row"], lxmf["row"]) == ("meshcare/topic", "lxmf")
    assert mesh["delivered"] == 20 and mesh["lost"] == 0 and mesh["warmup_lost"] == 0 and mesh["errors"] == []
    assert {"latency_ms", "per_s", "cpu_ms_per_message", "cpu_ms_per_message_by_process", "wire_bytes_per_message",
            "rss_mib", "rss_node_mib", "api_ms_p50"} <= set(mesh)
    assert set(mesh["rss_mib"]) == {"A daemon", "A worker", "B daemon", "B worker"}
    assert mesh["wire_bytes_per_message"]["A-B"] > 200          # a 200-byte body went over the link
    assert set(out["groups"][0]["median"]) >= {"latency_ms.p50", "latency_ms.p99", "per_s", "cpu_ms_per_message"}
    ratios = out["ratios"][0]
    assert ratios["row"] == "meshcare/topic" and ratios["against"] == "lxmf" and "latency_ms.p50" in ratios["ratios"]


def test_a_worker_that_cannot_start_fails_its_run_with_its_stderr_and_the_exit_status(
        capsys: pytest.CaptureFixture[str], fake_lxmf: list[str]) -> None:
    code, out = _main(capsys, ["--systems", "lxmf", *fake_lxmf, "--lxmf-args=--no-such-flag",
                               "--topologies", "pair", "--modes", "closed", "--messages", "3"])
    assert code == 1
    (run,) = out["runs"]
    assert run["lost"] == 3 and run["delivered"] == 0
    assert "could not start" in run["errors"][0] and "--no-such-flag" in run["errors"][0]
