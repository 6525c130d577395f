"""``meshcare service status``: is the unit installed, enabled, running, and what does the daemon say?

Installed and enabled are read from the files (``/etc/systemd/system``, its ``multi-user.target.wants``),
which is true whether or not systemd runs here. Running is systemd's to say (``systemctl is-active``):
on a machine whose PID 1 is not systemd (a container, a build host) the answer is "cannot know", in words.
The daemon's own status comes over its control socket when it answers (its owner, or root, may ask).
"""

from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path
from typing import Any

from ..errors import MeshcareError
from . import plan as p
from .actions import gather, lookup
from .units import DEFAULT_VENV, SYSTEM_UNIT, TEMPLATE_UNIT, UNIT_DIR


def _who(user: str | None) -> str | None:
    """The owner to report on: ``--user``, else whoever ran sudo, else whoever runs this (root: nobody)."""
    if user:
        return user
    name = os.environ.get("SUDO_USER") or getpass.getuser()
    return None if name == "root" else name


def _systemctl(*args: str) -> str | None:
    try:
        out = subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def daemon_status(data_dir: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The daemon's ``status`` answer over ``data_dir``'s control socket, or None and the reason in words."""
    from ..client import ControlClient  # noqa: PLC0415 (the control protocol loads only here)

    try:
        client = ControlClient.connect(data_dir / "control.sock")
        try:
            return dict(client.request("status")), None
        finally:
            client.close()
    except MeshcareError as exc:
        return None, str(exc)


def service_status(root: Path, user: str | None = None, system: bool = False) -> dict[str, Any]:
    """The ``--json`` object of ``service status`` (docs/cli.md)."""
    owner = None if system else _who(user)
    machine = gather(p.Request(user=owner, system=system), root)
    files = p.unit_files(machine)
    names: list[str] = []
    if system or (user is None and files[SYSTEM_UNIT]):
        names.append(SYSTEM_UNIT)
    if not system:
        for unit in (*machine.wanted, *machine.dropins):
            if unit.startswith("meshcare@") and unit not in names and user is None:
                names.append(unit)
        if owner and f"meshcare@{owner}.service" not in names:
            names.append(f"meshcare@{owner}.service")
    if not names and files[TEMPLATE_UNIT]:
        names.append(TEMPLATE_UNIT)     # the template, with no node of anyone's known yet
    live = machine.systemd and not machine.staging
    rows = []
    for unit in names:
        template = unit.startswith("meshcare@")
        if unit == TEMPLATE_UNIT:
            rows.append({"unit": unit, "installed": True, "enabled": False, "file": str(UNIT_DIR / unit),
                         "active": None, "data_dir": None, "daemon": None, "daemon_error": None})
            continue
        row: dict[str, Any] = {"unit": unit, "installed": files[TEMPLATE_UNIT if template else SYSTEM_UNIT],
                               "enabled": unit in machine.wanted,
                               "file": str(UNIT_DIR / (TEMPLATE_UNIT if template else SYSTEM_UNIT)),
                               "active": _systemctl("is-active", unit) if live else None}
        if live:
            row["enabled"] = _systemctl("is-enabled", unit) == "enabled"
        data_dir = _data_dir(unit, root)
        row["data_dir"] = None if data_dir is None else str(data_dir)
        row["daemon"], row["daemon_error"] = (None, None)
        if data_dir is not None and not machine.staging:
            row["daemon"], row["daemon_error"] = daemon_status(data_dir)
        rows.append(row)
    return {"root": str(root), "systemd": live, "pid1": machine.pid1, "units": rows,
            "command_link": machine.link_target, "venv": str(DEFAULT_VENV) if machine.venv_exists else None}


def _data_dir(unit: str, root: Path) -> Path | None:
    if unit == SYSTEM_UNIT:
        return Path(str(p.SYSTEM_DATA))
    account = lookup(unit[len("meshcare@"):-len(".service")], root)
    if account is None or account.home.rstrip("/") in p.UNUSABLE_HOMES:
        return None
    return Path(str(p.owner_data_dir(account)))


def words(data: dict[str, Any]) -> str:
    """The status for people."""
    lines = []
    if not data["systemd"]:
        lines.append(f"systemd is not running on this machine (PID 1 is {data['pid1']}): whether a service is "
                     "running cannot be known here; installed and enabled are read from the files.")
    if not data["units"]:
        lines.append(f"No meshcare service is installed under {data['root']} (`sudo meshcare service install "
                     "--user NAME` or `--system`).")
    for row in data["units"]:
        state = "installed" if row["installed"] else "not installed"
        enabled = "enabled" if row["enabled"] else "not enabled"
        active = row["active"] or "unknown"
        lines.append(f"{row['unit']}: {state} ({row['file']}), {enabled}, running: {active}")
        if row["data_dir"]:
            lines.append(f"  data: {row['data_dir']}")
        if row["daemon"]:
            d = row["daemon"]
            lines.append(f"  daemon: {d.get('name', '?')}, listening on {d.get('listen', '?')}, "
                         f"links {_count(d.get('links'))}, up {int(d.get('uptime_s') or 0)} s")
        elif row["daemon_error"]:
            lines.append(f"  daemon: {row['daemon_error']}")
    if data["venv"]:
        lines.append(f"venv: {data['venv']}" + (f" (command: {data['command_link']})" if data["command_link"] else ""))
    return "\n".join(lines)


def _count(value: Any) -> str:
    return str(len(value)) if isinstance(value, (list, dict)) else str(value)


