"""The Tor settings (issue 15, C4): config.toml keys and daemon flags, their defaults and their errors; the
pure TorState/NewnymLimit the daemon reports and rate-limits with; slow links in the engine."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from meshcare import config
from meshcare.crypto.onion_key import OnionKey
from meshcare.errors import ConfigError
from meshcare.sync.config import SyncConfig
from meshcare.sync.engine import SyncEngine
from meshcare.sync.events import DropLink, LinkOpened
from meshcare.transport import command
from meshcare.transport.tor.tor_state import NewnymLimit, TorOptions, TorState


def settings_of(text: str, tmp_path: Path) -> config.Settings:
    (tmp_path / "config.toml").write_text(text)
    return config.load(tmp_path)


def test_defaults_are_off_and_name_tors_usual_ports(tmp_path: Path, monkeypatch) -> None:
    s = config.load(tmp_path)
    assert (s.tor, s.tor_socks, s.onion_service, s.onion_port) == (False, ("127.0.0.1", 9050), True, 7447)
    assert s.tor_control in ("/run/tor/control", "127.0.0.1:9051")
    monkeypatch.setattr(config.os.path, "exists", lambda path: False)
    assert config.default_tor_control() == "127.0.0.1:9051"
    monkeypatch.setattr(config.os.path, "exists", lambda path: path == "/run/tor/control")
    assert config.default_tor_control() == "/run/tor/control"


def test_config_keys(tmp_path: Path) -> None:
    s = settings_of('tor = true\ntor_socks = "127.0.0.1:9150"\ntor_control = "/run/tor/control"\n'
                    'onion_service = false\nonion_port = 80\n', tmp_path)
    assert (s.tor, s.tor_socks, s.tor_control, s.onion_service, s.onion_port) == (
        True, ("127.0.0.1", 9150), "/run/tor/control", False, 80)
    assert settings_of('tor_control = "localhost:9051"', tmp_path).tor_control == "localhost:9051"


@pytest.mark.parametrize("text, match", [
    ('tor = "yes"', "tor has the wrong type"),
    ('tor_socks = "127.0.0.1"', "write HOST:PORT"),
    ('tor_socks = "127.0.0.1:0"', "port 0 is no SOCKS port"),
    ('tor_control = "run/tor/control"', "absolute socket path"),
    ('tor_control = "127.0.0.1:x"', "port must be a number"),
    ('onion_port = 0', "between 1 and 65535"),
    ('onion_port = "7447"', "onion_port has the wrong type"),
    ('onion_service = 1', "onion_service has the wrong type"),
])
def test_bad_tor_keys_name_the_problem(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        settings_of(text, tmp_path)


def flags(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_flags_override_config(tmp_path: Path) -> None:
    base = config.Settings(home=tmp_path)
    s = command.settings_from_args(flags("--tor", "--tor-socks", "127.0.0.1:9150", "--tor-control", "/tmp/c.sock",
                                         "--no-onion-service", "--onion-port", "1234"), base)
    assert (s.tor, s.tor_socks, s.tor_control, s.onion_service, s.onion_port) == (
        True, ("127.0.0.1", 9150), "/tmp/c.sock", False, 1234)
    assert command.settings_from_args(flags(), base) == base
    with pytest.raises(ConfigError, match="--onion-port 70000"):
        command.settings_from_args(flags("--onion-port", "70000"), base)
    with pytest.raises(ConfigError, match="--tor-control"):
        command.settings_from_args(flags("--tor-control", "tor"), base)


def test_tor_state_map_and_what_the_node_hears() -> None:
    key = OnionKey.generate()
    options = TorOptions(socks=("127.0.0.1", 9050), control="/run/tor/control", onion_port=7447, key=key)
    state = TorState.initial(options)
    assert state.view().to_data() == {"control": "/run/tor/control", "socks": "127.0.0.1:9050", "connected": False,
                                      "bootstrap": None, "onion": f"{key.address}:7447", "published": False,
                                      "error": "not connected to tor's control port yet"}
    assert state.node_view() == (True, None)
    assert state.change(published=True).node_view() == (True, f"{key.address}:7447")
    assert TorState.initial(TorOptions(("::1", 9050), "x:1", 7447)).view().to_data()["onion"] is None
    assert TorState.initial(TorOptions(("::1", 9050), "x:1", 7447)).socks == "[::1]:9050"


def test_newnym_at_most_once_per_ten_seconds() -> None:
    limit = NewnymLimit()
    assert [limit.allow(t) for t in (0.0, 1.0, 9.9, 10.0, 12.0, 25.0)] == [True, False, False, True, False, True]
    assert limit.sent == 3


def test_a_slow_link_is_pinged_later_and_dropped_later_by_the_engine() -> None:
    import random

    from meshcare.store.memory import MemoryStore

    engine = SyncEngine(MemoryStore(), lambda envs, now: [True] * len(envs), rng=random.Random(1), config=SyncConfig())
    engine.handle(LinkOpened("lan", b"h" * 32, True), 0.0)
    engine.handle(LinkOpened("tor", b"i" * 32, True, slow=True), 0.0)
    assert engine._links["tor"].slow and not engine._links["lan"].slow
    dropped = {e.peer for e in engine.handle_deadline(50.0) if isinstance(e, DropLink)}
    assert dropped == {"lan"}
    dropped = {e.peer for e in engine.handle_deadline(125.0) if isinstance(e, DropLink)}
    assert dropped == {"tor"}
