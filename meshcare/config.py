"""Settings: one frozen object, loaded once at the edge (the CLI) and passed in everywhere else.

Where things come from, later wins: built-in defaults, then ``config.toml`` in the data dir, then
command-line flags (applied by the CLI with ``dataclasses.replace``). The data dir is
``$MESHCARE_HOME`` if set, else the platform's user data dir (``~/.local/share/meshcare`` on Linux).
Several nodes on one machine are several data dirs.

``config.toml`` (every key optional)::

    listen = "0.0.0.0:7447"
    peers = ["192.0.2.10:7447"]
    discovery = true
    interfaces = ["192.0.2.1"]
    store_synchronous = "FULL"      # or "NORMAL": faster, may lose the last second on power loss
    log_level = "info"
    author_per_minute = 120         # fresh envelopes one author may inject per minute (burst: twice that)
    notify_command = "/home/pi/bin/meshcare-led"   # run for a new call or a "need support now" reply
    notify_content = "hidden"       # "hidden" (circle and urgency) | "name" (also who) | "full" (also words)
    quiet_hours = "23:00-07:00"     # local time: only calls marked "now" run notify_command then
    notify_timeout = 10             # seconds before a notify_command that hangs is stopped
    profile = "auto"                # "small" | "standard" | "auto": small under 1 GiB of memory (profile.py)
    tor = false                     # reach and be reached through Tor onion services (the system tor)
    tor_socks = "127.0.0.1:9050"    # tor's SOCKS port, which onion peers are dialled through
    tor_control = "/run/tor/control"   # tor's control port: a unix socket path or HOST:PORT
    onion_service = true            # publish this node's onion service (false: dial out only, a laptop)
    onion_port = 7447               # the port peers dial on this node's onion address

The notification keys are read by ``meshcare.notify.settings`` (docs/cli.md, "Notifications").
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .notify import settings as notify_settings

DEFAULT_PORT = 7447
DEFAULT_LISTEN = ("0.0.0.0", DEFAULT_PORT)
DEFAULT_TOR_SOCKS = ("127.0.0.1", 9050)
#: Debian's system tor (cookie auth, group debian-tor); used by default when it exists
SYSTEM_TOR_CONTROL = "/run/tor/control"
FALLBACK_TOR_CONTROL = "127.0.0.1:9051"
DEFAULT_ONION_PORT = 7447
CONFIG_FILE = "config.toml"
STORE_FILE = "store.sqlite3"
CONTROL_SOCKET = "control.sock"
#: The daemon holds an exclusive flock on it while it runs, and writes its pid in it.
LOCK_FILE = "daemon.lock"
#: Where a daemon started in the background (`meshcare`, `meshcare start`) writes its log.
DAEMON_LOG = "daemon.log"
LOG_LEVELS = ("debug", "info", "warning", "error")


def default_home() -> Path:
    """``$MESHCARE_HOME`` or the platform user data dir."""
    env = os.environ.get("MESHCARE_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs  # imported here: only the edge resolves paths

    return Path(platformdirs.user_data_dir("meshcare", appauthor=False))


def parse_hostport(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """``HOST:PORT``, ``HOST`` or ``[V6]:PORT`` -> (host, port). Raises ConfigError with an example."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or "]" in port_text:
        host, port_text = text.strip(), str(default_port)
    host = host.strip("[]")
    if not host:
        raise ConfigError(f"{text!r} has no host; write HOST:PORT, e.g. 192.0.2.10:{DEFAULT_PORT}")
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"{text!r}: port must be a number, e.g. {host}:{DEFAULT_PORT}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{text!r}: port must be between 0 and 65535")
    return host, port


def default_tor_control() -> str:
    """Debian's system tor control socket when it exists, else tor's usual control port."""
    return SYSTEM_TOR_CONTROL if os.path.exists(SYSTEM_TOR_CONTROL) else FALLBACK_TOR_CONTROL


def parse_tor_control(text: str, where: str = "--tor-control") -> str:
    """An absolute unix-socket path or HOST:PORT (port required). Raises ConfigError with an example."""
    text = text.strip()
    if text.startswith("/"):
        return text
    if ":" not in text:
        raise ConfigError(f"{where} {text!r}: give tor's control port as an absolute socket path "
                          f"(e.g. {SYSTEM_TOR_CONTROL}) or HOST:PORT (e.g. {FALLBACK_TOR_CONTROL})")
    host, port = parse_hostport(text)
    if port == 0:
        raise ConfigError(f"{where} {text!r}: port 0 is no control port; tor's is usually 9051")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_tor_socks(text: str, where: str = "--tor-socks") -> tuple[str, int]:
    """tor's SOCKS port as HOST:PORT (port required, 1-65535)."""
    if ":" not in text.strip():
        raise ConfigError(f"{where} {text!r}: write HOST:PORT, e.g. 127.0.0.1:9050 (tor's SOCKS port)")
    host, port = parse_hostport(text)
    if port == 0:
        raise ConfigError(f"{where} {text!r}: port 0 is no SOCKS port; tor's is usually 9050")
    return host, port


def check_onion_port(port: int, where: str = "--onion-port") -> int:
    """The port peers dial on the onion address: 1-65535."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"{where} {port}: the onion port must be between 1 and 65535 (default {DEFAULT_ONION_PORT})")
    return port


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a node needs to know about its environment. Immutable after loading."""

    home: Path
    listen: tuple[str, int] = DEFAULT_LISTEN
    peers: tuple[tuple[str, int], ...] = ()
    discovery: bool = True
    interfaces: tuple[str, ...] = ()
    store_synchronous: str = "FULL"
    log_level: str = "info"
    passphrase_file: Path | None = None
    author_per_minute: float = 120.0
    #: "small", "standard" or "auto" (meshcare/profile.py: small under 1 GiB of memory)
    profile: str = "auto"
    notify: notify_settings.NotifySettings = notify_settings.NotifySettings()
    #: the listen address was given on the command line: use that port or stop, never take the next one
    listen_fixed: bool = False
    #: Tor (docs/operations.md, "Tor"): dial ``.onion`` peers through ``tor_socks``, publish an onion service
    #: through ``tor_control`` (unless ``onion_service`` is False) on ``onion_port``
    tor: bool = False
    tor_socks: tuple[str, int] = DEFAULT_TOR_SOCKS
    tor_control: str = field(default_factory=default_tor_control)
    onion_service: bool = True
    onion_port: int = DEFAULT_ONION_PORT
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def keystore_path(self) -> Path:
        return self.home / "identity.key"

    @property
    def store_path(self) -> Path:
        return self.home / STORE_FILE

    @property
    def control_path(self) -> Path:
        return self.home / CONTROL_SOCKET

    @property
    def lock_path(self) -> Path:
        return self.home / LOCK_FILE

    @property
    def log_path(self) -> Path:
        return self.home / DAEMON_LOG

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)


def _expect(value: Any, kind: type | tuple[type, ...], key: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"config.toml: {key} has the wrong type ({type(value).__name__})")
    return value


def from_mapping(home: Path, data: dict[str, Any]) -> Settings:
    """Build Settings from a parsed config mapping. Raises ConfigError naming the bad key."""
    known = {"listen", "peers", "discovery", "interfaces", "store_synchronous", "log_level", "passphrase_file",
             "author_per_minute", "profile", "tor", "tor_socks", "tor_control", "onion_service", "onion_port",
             *notify_settings.KEYS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"config.toml: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    kw: dict[str, Any] = {}
    if "listen" in data:
        kw["listen"] = parse_hostport(_expect(data["listen"], str, "listen"))
    if "peers" in data:
        peers = _expect(data["peers"], list, "peers")
        kw["peers"] = tuple(parse_hostport(_expect(p, str, "peers")) for p in peers)
    if "discovery" in data:
        kw["discovery"] = _expect(data["discovery"], bool, "discovery")
    if "interfaces" in data:
        kw["interfaces"] = tuple(_expect(i, str, "interfaces") for i in _expect(data["interfaces"], list, "interfaces"))
    if "store_synchronous" in data:
        sync = _expect(data["store_synchronous"], str, "store_synchronous").upper()
        if sync not in ("FULL", "NORMAL"):
            raise ConfigError("config.toml: store_synchronous must be \"FULL\" or \"NORMAL\"")
        kw["store_synchronous"] = sync
    if "log_level" in data:
        level = _expect(data["log_level"], str, "log_level").lower()
        if level not in LOG_LEVELS:
            raise ConfigError(f"config.toml: log_level must be one of {', '.join(LOG_LEVELS)}")
        kw["log_level"] = level
    if "author_per_minute" in data:
        rate = _expect(data["author_per_minute"], (int, float), "author_per_minute")
        if not 1 <= rate <= 10_000_000:
            raise ConfigError("config.toml: author_per_minute must be between 1 and 10000000")
        kw["author_per_minute"] = float(rate)
    if "profile" in data:
        from .profile import check_name  # noqa: PLC0415 (small and pure; only a config that names it pays)

        kw["profile"] = check_name(_expect(data["profile"], str, "profile"), "config.toml")
    if "passphrase_file" in data:
        kw["passphrase_file"] = Path(_expect(data["passphrase_file"], str, "passphrase_file")).expanduser()
    if "tor" in data:
        kw["tor"] = _expect(data["tor"], bool, "tor")
    if "tor_socks" in data:
        kw["tor_socks"] = parse_tor_socks(_expect(data["tor_socks"], str, "tor_socks"), "config.toml: tor_socks")
    if "tor_control" in data:
        kw["tor_control"] = parse_tor_control(_expect(data["tor_control"], str, "tor_control"),
                                              "config.toml: tor_control")
    if "onion_service" in data:
        kw["onion_service"] = _expect(data["onion_service"], bool, "onion_service")
    if "onion_port" in data:
        kw["onion_port"] = check_onion_port(_expect(data["onion_port"], int, "onion_port"), "config.toml: onion_port")
    if any(k in data for k in notify_settings.KEYS):
        try:
            kw["notify"] = notify_settings.from_mapping(data)
        except ConfigError as exc:
            raise ConfigError(f"config.toml: {exc}") from None
    return Settings(home=home, **kw)


def load(home: Path | None = None) -> Settings:
    """Load settings for ``home`` (default: ``default_home()``); a missing config.toml means defaults."""
    home = default_home() if home is None else home
    path = home / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(home=home)
    except NotADirectoryError:
        raise ConfigError(f"the data directory {home} is a file (or under one), not a directory; give a "
                          "directory with --home or MESHCARE_HOME") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}; it must be a file you can read "
                          "(or move it away to use the defaults)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; write it as UTF-8 (or move it away to use the "
                          "defaults)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return from_mapping(home, data)
