"""How a node is linked, in words (meshcare/control/reachability.py), and `meshcare status` / `meshcare
peers` showing onion links apart from direct ones, from fabricated daemon answers (the CLI's
``ask_daemon`` is replaced; no daemon runs). Budget: under 1 s."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meshcare import cli
from meshcare.cli.common import Answer
from meshcare.control import reachability as reach
from meshcare.control.views import Peer
from meshcare.control.views_doctor import TorStatus

ONION = "b" * 56 + ".onion:7447"
TOR = TorStatus(control="/run/tor/control", socks="127.0.0.1:9050", connected=True, bootstrap=100, onion=ONION,
                published=True, error=None)
STATUS: dict[str, Any] = {"node_id": "ab" * 32, "name": "Ana", "listen": "0.0.0.0:7447", "uptime_s": 65,
                          "links": 3, "envelopes": 17, "topics": 0, "statistics": {},
                          "tor": TOR.to_data(), "links_direct": 2, "links_onion": 1}
PEERS: dict[str, Any] = {"peers": [
    {"node_id": "cd" * 32, "address": "192.0.2.10:7447", "linked": True, "name": "Bo", "via": "direct"},
    {"node_id": "ef" * 32, "address": "c" * 56 + ".onion:7447", "linked": True, "name": "Cy", "via": "onion"},
    {"node_id": "12" * 32, "address": "127.0.0.1:40111", "linked": True, "via": "onion"},
    {"node_id": None, "address": "d" * 56 + ".onion:7447", "linked": False, "source": "onion"}]}


def peer(address: str, linked: bool = True, via: str | None = None) -> Peer:
    return Peer(node_id=None, address=address, linked=linked, via=via)


def test_peer_via_from_the_daemon_or_the_address():
    assert reach.peer_via(peer("127.0.0.1:40111", via="onion")) == "onion"
    assert reach.peer_via(peer("x" * 56 + ".ONION:7447")) == "onion"
    assert reach.peer_via(peer("192.0.2.1:7447")) == "direct"
    assert reach.peer_via(peer("[2001:db8::1]:7447")) == "direct"
    assert reach.via_words(peer("192.0.2.1:7447", linked=False)) == "-"
    assert reach.split_peers([peer("a.onion:1"), peer("192.0.2.1:1"), peer("192.0.2.2:1", linked=False)]) == (1, 1)


def test_reach_and_link_words():
    assert reach.reach_words(2, 0) == "linked via LAN to 2 neighbours"
    assert reach.reach_words(0, 1) == "linked via Tor (slow) to 1 neighbour"
    assert reach.reach_words(1, 2) == "linked via LAN (1) and via Tor (2, slow)"
    assert reach.reach_words(0, 0) == "unreachable"
    assert reach.link_split(3, 2, 1) == "3 (2 direct, 1 via Tor)"
    assert reach.link_split(3, None, None) == "3" and reach.link_split(0, 0, 0) == "0"


@pytest.mark.parametrize("tor, words", [
    (None, "Tor: not used"),
    (TOR, f"ready (bootstrapped 100%), dialling through 127.0.0.1:9050; onion {ONION} published"),
    (TorStatus(control="127.0.0.1:9051", socks="127.0.0.1:9050", connected=False, bootstrap=None, onion=None,
               published=False, error="Connection refused"),
     "Tor: not connected to tor's control port 127.0.0.1:9051: Connection refused"),
    (TorStatus(control="/run/tor/control", socks="127.0.0.1:9050", connected=True, bootstrap=45, onion=ONION,
               published=False, error=None), "starting (bootstrapped 45%)"),
    (TorStatus(control="/run/tor/control", socks="127.0.0.1:9050", connected=True, bootstrap=100, onion=ONION,
               published=False, error=None), "not published yet: peers cannot reach it through Tor yet"),
    (TorStatus(control="/run/tor/control", socks="127.0.0.1:9050", connected=True, bootstrap=100, onion=None,
               published=False, error=None), "no onion service (this node dials out only"),
])
def test_tor_line(tor: TorStatus | None, words: str):
    assert words in reach.tor_line(tor)


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """The daemon's answers by op, as ``ask_daemon`` would read them."""
    answers = {"status": dict(STATUS), "peers": dict(PEERS)}
    monkeypatch.setenv("MESHCARE_HOME", str(tmp_path))
    monkeypatch.setattr(cli, "ask_daemon", lambda settings, request: Answer(request.read_result(answers[request.OP]),
                                                                            answers[request.OP]))
    return answers


def test_status_text_splits_links_and_shows_tor(daemon, capsys):
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "links 3 (2 direct, 1 via Tor), envelopes 17, topics 0" in out
    assert f"Tor: connected (/run/tor/control), ready (bootstrapped 100%)" in out and ONION in out


def test_status_json_only_gains_keys(daemon, capsys):
    assert cli.main(["status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["links_direct"] == 2 and data["links_onion"] == 1 and data["tor"]["published"] is True
    assert {"node_id", "name", "listen", "uptime_s", "links", "envelopes", "topics", "statistics"} <= set(data)


def test_status_of_a_node_without_tor_reads_as_before(daemon, capsys):
    daemon["status"] = {k: v for k, v in STATUS.items() if k not in ("tor", "links_direct", "links_onion")}
    daemon["status"]["links"] = 2
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "links 2, envelopes 17, topics 0" in out and "Tor" not in out


def test_peers_text_shows_via(daemon, capsys):
    assert cli.main(["peers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NODE", "ID", "ADDRESS", "LINKED", "VIA", "NAME"]
    assert lines[1].split() == ["cd" * 8, "192.0.2.10:7447", "yes", "direct", "Bo"]
    assert lines[2].split()[2:] == ["yes", "Tor", "Cy"]
    assert lines[3].split()[1:] == ["127.0.0.1:40111", "yes", "Tor"]
    assert lines[4].split()[2:] == ["no", "-"]


def test_peers_json_keeps_via_as_the_daemon_sent_it(daemon, capsys):
    assert cli.main(["peers", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["peers"]
    assert [r.get("via") for r in rows] == ["direct", "onion", "onion", None]
