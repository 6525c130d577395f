"""tests/tor's torrc files (no tor runs here): every role is a testing-network tor with only our authorities,
the clients publish nothing themselves (meshcare does, over the control port), and the harness's safety
check refuses anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tor.torrc import is_private, render

LINES = [f"DirAuthority tba{k} orport=5000 no-v2 v3ident={'A' * 40} 198.51.100.{k}:7000 {'B' * 40}"
         for k in (1, 2, 3)]


def torrc(role: str) -> str:
    return render(role, datadir=Path("/x/a1"), nick="tba1", ip="198.51.100.1", dirauthorities=LINES,
                  resolvconf=Path("/x/resolv.conf"))


@pytest.mark.parametrize("role", ["authority", "relay", "client"])
def test_every_role_is_a_private_testing_tor(role: str) -> None:
    text = torrc(role)
    lines = text.splitlines()
    assert "TestingTorNetwork 1" in lines and "UseDefaultFallbackDirs 0" in lines
    assert [line for line in lines if line.startswith("DirAuthority ")] == LINES
    assert "ServerDNSResolvConfFile /x/resolv.conf" in lines
    assert is_private(text, "tba1")
    assert "{" not in text and "}" not in text, "a template field was left unfilled"


def test_a_client_has_socks_and_a_cookie_control_port_and_no_onion_of_its_own() -> None:
    lines = torrc("client").splitlines()
    assert "SocksPort 127.0.0.1:9050 ExtendedErrors" in lines
    assert "ControlPort 127.0.0.1:9051" in lines and "CookieAuthentication 1" in lines
    assert not any(line.startswith("HiddenService") for line in lines)


def test_authorities_vote_fast_and_relays_exit_nowhere() -> None:
    authority = torrc("authority").splitlines()
    assert "V3AuthVotingInterval 10" in authority and "TestingDirAuthVoteHSDir *" in authority
    assert "ExitRelay 0" in torrc("relay").splitlines()


@pytest.mark.parametrize("drop", ["TestingTorNetwork 1", "UseDefaultFallbackDirs 0", LINES[0]])
def test_the_safety_check_refuses_a_torrc_missing_a_guard(drop: str) -> None:
    text = "\n".join(line for line in torrc("client").splitlines() if line != drop)
    assert not is_private(text, "tba1")
    assert not is_private(torrc("client"), "tbz9")
