"""`meshcare doctor`'s tor check: each finding made by creating its problem (fabricated ``node.health``
answers, a fake tor control port on 127.0.0.1 that answers PROTOCOLINFO, probe facts built by hand where
the problem needs a second user or systemd). No real tor runs. Budget: under 2 s."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from meshcare import config
from meshcare.control.results_doctor import NodeHealthResult
from meshcare.control.views_doctor import TorStatus
from meshcare.doctor import probes, run, tor
from meshcare.doctor.facts import DaemonFacts
from meshcare.doctor.findings import Finding, Level
from meshcare.doctor.tor import TorProbe

from .test_doctor import dark, health, unit

ONION = "a" * 56 + ".onion:7447"
READY = TorStatus(control="/run/tor/control", socks="127.0.0.1:9050", connected=True, bootstrap=100, onion=ONION,
                  published=True, error=None)


def levels(found: list[Finding]) -> list[Level]:
    return [f.level for f in found]


def running(tor_map: TorStatus | None) -> DaemonFacts:
    return DaemonFacts(pid=42, answers=True, socket_exists=True, health=replace(health(), tor=tor_map))


def ctx_for(daemon: DaemonFacts | None = None, tmp: Path = Path("/h"), **changed) -> run.Context:
    return run.Context(config.Settings(home=tmp), dark(daemon, **changed), user="ana")


@pytest.fixture
def tor_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """config.toml says `tor = true`, with Debian's control socket."""
    monkeypatch.setattr(run, "tor_settings", lambda s: (True, "/run/tor/control"))


# --- not used -------------------------------------------------------------------------------------------

def test_not_configured_and_not_reported_is_one_info_line():
    [f] = run.check_tor(ctx_for())
    assert f.level is Level.INFO and "not used" in f.what and "tor = true" in f.what


def test_tor_is_off_by_default_and_on_with_the_setting():
    used, control = run.tor_settings(config.Settings(home=Path("/h")))
    assert used is False and control in ("/run/tor/control", "127.0.0.1:9051")
    assert run.tor_settings(config.Settings(home=Path("/h"), tor=True, tor_control="127.0.0.1:9151")) == \
        (True, "127.0.0.1:9151")


# --- what the running daemon reports --------------------------------------------------------------------

def test_ready_and_published_is_ok():
    found = run.check_tor(ctx_for(running(READY)))
    assert levels(found) == [Level.OK, Level.OK]
    assert "bootstrapped 100%" in found[0].what and ONION in found[1].what and "published" in found[1].what


def test_refused_at_the_control_socket_says_add_the_user_to_debian_tor():
    refused = replace(READY, connected=False, bootstrap=None, published=False,
                      error="Permission denied: /run/tor/control")
    [f] = run.check_tor(ctx_for(running(refused)))
    assert f.level is Level.PROBLEM and "refused" in f.what
    assert "sudo adduser ana debian-tor" in f.fix and "restart meshcare" in f.fix


def test_control_port_unreachable_says_install_and_start_tor():
    gone = replace(READY, control="127.0.0.1:9051", connected=False, bootstrap=None, published=False,
                   error="Connection refused")
    [f] = run.check_tor(ctx_for(running(gone)))
    assert f.level is Level.PROBLEM and "cannot reach tor's control port 127.0.0.1:9051" in f.what
    assert "sudo apt install tor" in f.fix and "tor_control" in f.fix and "LAN still work" in f.what


def test_a_password_only_tor_is_named_as_such():
    refused = replace(READY, connected=False, bootstrap=None, published=False,
                      error="tor accepts only a password (HASHEDPASSWORD); meshcare authenticates by cookie")
    [f] = run.check_tor(ctx_for(running(refused)))
    assert f.level is Level.PROBLEM and "asks for a password" in f.what and "CookieAuthentication 1" in f.fix


def test_not_bootstrapped_gives_the_percentage():
    found = run.check_tor(ctx_for(running(replace(READY, bootstrap=45, published=False))))
    assert levels(found) == [Level.WARNING, Level.WARNING]
    assert "bootstrapped 45%" in found[0].what and "blocks Tor" in found[0].fix
    assert "not published yet" in found[1].what


def test_onion_not_published_yet_then_with_an_error():
    [_, f] = run.check_tor(ctx_for(running(replace(READY, published=False))))
    assert f.level is Level.WARNING and "not published yet" in f.what and ONION in f.what
    [_, f] = run.check_tor(ctx_for(running(replace(READY, published=False, error="ADD_ONION refused: 512"))))
    assert f.level is Level.PROBLEM and "ADD_ONION refused" in f.what and "journalctl -u tor@default" in f.fix


def test_dial_out_only_is_information():
    found = run.check_tor(ctx_for(running(replace(READY, onion=None, published=False))))
    assert levels(found) == [Level.OK, Level.INFO] and "dials out through Tor only" in found[1].what


def test_configured_but_the_running_node_does_not_use_tor(tor_on):
    found = run.check_tor(ctx_for(running(None), tor_control=lambda w: TorProbe(w, reachable=True,
                                                                                methods=("SAFECOOKIE",),
                                                                                cookie_readable=True)))
    assert levels(found) == [Level.WARNING, Level.OK] and "restart the node" in found[0].fix


# --- the node does not run: a direct look at the control port -------------------------------------------

@pytest.mark.parametrize("probe, words, fix", [
    (TorProbe("/run/tor/control", reachable=False, error="Permission denied", denied=True),
     "may not use tor's control socket", "sudo adduser ana debian-tor"),
    (TorProbe("/run/tor/control", reachable=False, error="No such file or directory", missing=True),
     "does not exist: tor is not running", "sudo systemctl enable --now tor"),
    (TorProbe("127.0.0.1:9051", reachable=False, error="Connection refused"),
     "does not answer (Connection refused)", "tor_control"),
    (TorProbe("/run/tor/control", reachable=True, methods=("COOKIE", "SAFECOOKIE"),
              cookie="/run/tor/control.authcookie", cookie_readable=False),
     "cannot read tor's cookie", "sudo adduser ana debian-tor"),
    (TorProbe("127.0.0.1:9051", reachable=True, methods=("HASHEDPASSWORD",)),
     "asks for a password", "CookieAuthentication 1"),
])
def test_probe_findings(tor_on, probe: TorProbe, words: str, fix: str):
    [f] = run.check_tor(ctx_for(tor_control=lambda w: probe))
    assert f.level is Level.PROBLEM and words in f.what and fix in f.fix


def test_probe_that_would_let_the_node_in_is_ok(tor_on):
    probe = TorProbe("/run/tor/control", reachable=True, methods=("COOKIE", "SAFECOOKIE"),
                     cookie="/run/tor/control.authcookie", cookie_readable=True)
    [f] = run.check_tor(ctx_for(tor_control=lambda w: probe))
    assert f.level is Level.OK and "would let the node in" in f.what


def test_parse_protocolinfo():
    reply = ('250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="/run/tor/control.authcookie"\r\n'
             '250-VERSION Tor="0.4.9.11"\r\n250 OK\r\n')
    assert tor.parse_protocolinfo(reply) == (("COOKIE", "SAFECOOKIE"), "/run/tor/control.authcookie")
    assert tor.parse_protocolinfo("250-AUTH METHODS=NULL\r\n250 OK\r\n") == (("NULL",), None)
    assert tor.parse_protocolinfo("514 Authentication required.\r\n") == ((), None)


@contextmanager
def fake_control(answer: bytes) -> Iterator[int]:
    """A one-connection fake of tor's control port on 127.0.0.1: reads one line, answers ``answer``."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(3)
            buf = b""
            while b"\r\n" not in buf:
                chunk = conn.recv(1024)
                if not chunk:
                    return
                buf += chunk
            conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()
        thread.join(3)


def test_the_probe_asks_a_real_socket(tmp_path: Path):
    cookie = tmp_path / "control.authcookie"
    cookie.write_bytes(b"\x01" * 32)
    answer = (f'250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="{cookie}"\r\n'
              '250-VERSION Tor="0.4.9.11"\r\n250 OK\r\n').encode()
    with fake_control(answer) as port:
        found = probes.tor_control(f"127.0.0.1:{port}", timeout=2)
    assert found.reachable and found.methods == ("COOKIE", "SAFECOOKIE") and found.cookie == str(cookie)
    assert found.cookie_readable is True
    with fake_control(b"HTTP/1.0 400 Bad Request\r\n\r\n") as port:
        found = probes.tor_control(f"127.0.0.1:{port}", timeout=2)
    assert not found.reachable and "not as tor does" in found.error
    missing = probes.tor_control(str(tmp_path / "no-such-socket"), timeout=1)
    assert not missing.reachable and missing.missing and not missing.denied


# --- Debian's tor service under systemd -----------------------------------------------------------------

def test_debian_tor_units(tor_on):
    show = {"tor.service": unit("x", sub="exited"), "tor@default.service": unit("x", file="static")}
    probe = TorProbe("/run/tor/control", reachable=True, methods=("SAFECOOKIE",), cookie_readable=True)
    ctx = ctx_for(systemd_booted=lambda: True, systemctl_show=lambda u, props: show[u], tor_control=lambda w: probe)
    found = run.check_tor(ctx)
    assert levels(found) == [Level.OK, Level.OK] and "tor@default.service" in found[1].what
    show["tor@default.service"] = unit("x", file="static", active="failed", sub="failed", result="exit-code")
    f = run.check_tor(ctx)[1]
    assert f.level is Level.PROBLEM and "failed, exit-code" in f.what and "tor --verify-config" in f.fix
    show["tor.service"] = unit("x", file="disabled", active="inactive", sub="dead")
    show["tor@default.service"] = unit("x", file="static", active="inactive", sub="dead")
    assert levels(run.check_tor(ctx)) == [Level.OK, Level.PROBLEM, Level.WARNING]
    assert "sudo systemctl enable tor" in run.check_tor(ctx)[2].fix
    show["tor.service"] = unit("x", load="not-found", file="", active="inactive")
    f = run.check_tor(ctx)[1]
    assert f.level is Level.PROBLEM and "not installed" in f.what and "sudo apt install tor" in f.fix


def test_tor_units_are_not_asked_for_a_tor_elsewhere():
    assert tor.judge_units([], debian_control=False) == []


def test_node_health_carries_the_tor_map():
    data = replace(health(), tor=READY).to_data()
    assert data["tor"]["onion"] == ONION and NodeHealthResult.from_data(data).tor == READY
    assert NodeHealthResult.from_data({**data, "tor": None}).tor is None
    older = {k: v for k, v in data.items() if k != "tor"}
    assert NodeHealthResult.from_data(older).tor is None
