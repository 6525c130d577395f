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
             "author_per_minute", "profile", *notify_settings.KEYS}
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
