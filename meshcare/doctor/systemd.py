"""The service's state under systemd. Pure: parses ``systemctl show`` and judges ``UnitFact``s.

The units (docs/raspberry-pi.md): ``meshcare@USER.service`` (a household Pi whose owner runs the TUI
as themselves) and ``meshcare.service`` (an appliance relay with its own ``meshcare`` user). Doctor asks
systemctl about both; on a machine that does not run systemd it says so, as information: a laptop that
starts its node with `meshcare` needs no service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .facts import UnitFact
from .findings import Finding, info, ok, problem, warning

SERVICE: Final = "service"
#: The properties asked of systemctl, in the order ``UnitFact`` holds them.
PROPERTIES: Final = ("LoadState", "UnitFileState", "ActiveState", "SubState", "Result")


def unit_names(user: str) -> tuple[str, ...]:
    """The units that may run a node for ``user``: the per-user template's instance, then the system one."""
    return (f"meshcare@{user}.service", "meshcare.service")


def parse_show(name: str, text: str) -> UnitFact:
    """``systemctl show --property=...`` output (``Key=value`` lines) as a UnitFact; missing keys are ""."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return UnitFact(name=name, load=values.get("LoadState", ""), unit_file=values.get("UnitFileState", ""),
                    active=values.get("ActiveState", ""), sub=values.get("SubState", ""),
                    result=values.get("Result", ""))


def judge_service(booted: bool, units: Sequence[UnitFact]) -> list[Finding]:
    """Not systemd; not installed; failed; installed but stopped or not started at boot; running."""
    if not booted:
        return [info(SERVICE, "not managed by systemd (this system does not run systemd): start the node with "
                              "`meshcare start`.")]
    installed = [u for u in units if u.load not in ("", "not-found")]
    if not installed:
        return [info(SERVICE, "not installed as a service: the node runs only while you start it (fine on a "
                              "laptop).", "on an always-on machine (a Pi): `meshcare service install` "
                                          "(docs/raspberry-pi.md).")]
    out: list[Finding] = []
    for u in installed:
        name = u.name
        logs = f"`journalctl -u {name} -n 50`"
        if u.load == "masked":
            out.append(warning(SERVICE, f"{name} is masked: systemd will not start it.",
                               f"`sudo systemctl unmask {name}` then `sudo systemctl enable --now {name}`."))
        elif u.active == "failed" or u.result not in ("", "success") and u.active != "active":
            why = f" ({u.result})" if u.result and u.result != "success" else ""
            out.append(problem(SERVICE, f"{name} failed{why}: the node is not running.",
                               f"see why with {logs}, then `sudo systemctl restart {name}`."))
        elif u.active in ("activating", "reloading") or u.sub == "auto-restart":
            out.append(warning(SERVICE, f"{name} is {u.active} ({u.sub}): starting, or restarting after a crash.",
                               f"wait a minute; if it keeps restarting, see why with {logs}."))
        elif u.active != "active":
            if u.unit_file == "enabled":
                out.append(warning(SERVICE, f"{name} is enabled but not running ({u.active}).",
                                   f"`sudo systemctl start {name}`."))
            else:
                out.append(info(SERVICE, f"{name} is installed but neither running nor started at boot "
                                         f"({u.unit_file or 'disabled'}).", f"`sudo systemctl enable --now {name}`."))
        elif u.unit_file not in ("enabled", "static", "generated", "linked", "enabled-runtime"):
            out.append(warning(SERVICE, f"{name} runs but will not start at boot ({u.unit_file or 'disabled'}).",
                               f"`sudo systemctl enable {name}`."))
        else:
            out.append(ok(SERVICE, f"{name} is running and starts at boot."))
    return out
