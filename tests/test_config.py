"""Settings: data dir resolution, config.toml parsing, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshcare import config
from meshcare.errors import ConfigError


def test_home_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MESHCARE_HOME", str(tmp_path / "n1"))
    assert config.default_home() == tmp_path / "n1"
    monkeypatch.delenv("MESHCARE_HOME")
    assert config.default_home().name == "meshcare"


def test_defaults_without_file(tmp_path):
    s = config.load(tmp_path)
    assert s.home == tmp_path and s.listen == config.DEFAULT_LISTEN and s.discovery is True
    assert s.store_synchronous == "FULL" and s.control_path == tmp_path / "control.sock"


def test_full_file(tmp_path):
    (tmp_path / "config.toml").write_text(
        'listen = "127.0.0.1:9000"\npeers = ["192.0.2.1:7447", "[fd00::1]:7000", "host"]\n'
        'discovery = false\ninterfaces = ["192.0.2.5"]\nstore_synchronous = "normal"\nlog_level = "DEBUG"\n'
        'author_per_minute = 600\n')
    s = config.load(tmp_path)
    assert s.listen == ("127.0.0.1", 9000)
    assert s.peers == (("192.0.2.1", 7447), ("fd00::1", 7000), ("host", config.DEFAULT_PORT))
    assert not s.discovery and s.interfaces == ("192.0.2.5",)
    assert s.store_synchronous == "NORMAL" and s.log_level == "debug" and s.author_per_minute == 600.0
    with pytest.raises(AttributeError):
        s.listen = ("x", 1)  # type: ignore[misc]


@pytest.mark.parametrize("text, match", [
    ("listen = ", "not valid TOML"),
    ("lisen = 'x'", "unknown setting"),
    ("discovery = 'yes'", "discovery"),
    ("peers = 'a:1'", "peers"),
    ("listen = 'h:port'", "port must be a number"),
    ("listen = 'h:70000'", "between 0 and 65535"),
    ("listen = ':7000'", "no host"),
    ("store_synchronous = 'OFF'", "FULL"),
    ("log_level = 'loud'", "log_level"),
    ("author_per_minute = 0", "between"),
    ("author_per_minute = 'many'", "author_per_minute"),
])
def test_bad_config_names_the_problem(tmp_path, text, match):
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ConfigError, match=match):
        config.load(tmp_path)


def test_replace_keeps_frozen(tmp_path):
    s = config.Settings(home=Path(tmp_path))
    t = s.replace(discovery=False)
    assert s.discovery and not t.discovery
