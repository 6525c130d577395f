"""The Reticulum config of an LXMF benchmark worker, and the checks that keep it on loopback.

Reticulum's stock configuration enables AutoInterface, which multicasts on every interface of the
machine, and a shared instance, which opens a local socket and an RPC port: neither may run here. The
worker writes its config with config_text, refuses to start Reticulum unless config_problems finds
nothing in the file it wrote, and refuses any interface Reticulum then holds that interface_problems
objects to. Pure: imports nothing of Reticulum, so the project's tests check it without Reticulum.
"""

from __future__ import annotations

import re
from typing import Any

LOOPBACK = "127.0.0.1"
ROLES = ("sender", "receiver", "relay")

INTERFACE_KEYS = {"TCPServerInterface": {"type", "enabled", "listen_ip", "listen_port"},
                  "TCPClientInterface": {"type", "enabled", "target_host", "target_port"}}
HOST_KEY = {"TCPServerInterface": "listen_ip", "TCPClientInterface": "target_host"}
RETICULUM_KEYS = {"enable_transport", "share_instance", "panic_on_interface_error", "discover_interfaces",
                  "respond_to_probes", "enable_remote_management", "publish_blackhole"}


class ConfigError(Exception):
    """A config this module will not write or judge; the message says why."""


def config_text(role: str, listen_port: int, connect_ports: tuple[int, ...]) -> str:
    """DIR/config for one worker: loopback TCP only, no shared instance (so no local socket and no RPC
    listener), no discovery or probes; transport (forwarding for others) only on the relay."""
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}")
    yes_no = "Yes" if role == "relay" else "No"
    lines = ["# Written by benchmarks/peers/lxmf_worker.py: loopback TCP only. Do not edit.",
             "[reticulum]",
             f"  enable_transport = {yes_no}",
             "  share_instance = No",
             "  panic_on_interface_error = Yes",
             "  discover_interfaces = No",
             "  respond_to_probes = No",
             "  enable_remote_management = No",
             "  publish_blackhole = No",
             "",
             "[logging]",
             "  loglevel = 2",
             "",
             "[interfaces]",
             f"  [[loopback server {listen_port}]]",
             "    type = TCPServerInterface",
             "    enabled = Yes",
             f"    listen_ip = {LOOPBACK}",
             f"    listen_port = {listen_port}"]
    for port in connect_ports:
        lines += ["",
                  f"  [[loopback client {port}]]",
                  "    type = TCPClientInterface",
                  "    enabled = Yes",
                  f"    target_host = {LOOPBACK}",
                  f"    target_port = {port}"]
    return "\n".join(lines) + "\n"


def parse_config(text: str) -> dict[str, Any]:
    """The subset of Reticulum's config syntax that config_text writes: `[section]`, `[[subsection]]`
    under [interfaces], `key = value`, comments. Anything else raises ConfigError, so a config that
    does not come from config_text is never judged safe by accident."""
    config: dict[str, Any] = {}
    section: dict[str, Any] | None = None
    section_name = ""
    current: dict[str, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        sub = re.fullmatch(r"\[\[([^\[\]]+)\]\]", line)
        top = re.fullmatch(r"\[([^\[\]]+)\]", line)
        pair = re.fullmatch(r"([A-Za-z_]+)\s*=\s*(\S+)", line)
        if sub:
            if section is None or section_name != "interfaces":
                raise ConfigError(f"config line {number}: [[{sub[1]}]] outside [interfaces]")
            if sub[1] in section:
                raise ConfigError(f"config line {number}: interface {sub[1]!r} twice")
            current = section[sub[1]] = {}
        elif top:
            if top[1] in config:
                raise ConfigError(f"config line {number}: section [{top[1]}] twice")
            section = config[top[1]] = {}
            section_name = top[1]
            current = None
        elif pair:
            target = current if current is not None else section
            if target is None:
                raise ConfigError(f"config line {number}: {pair[1]} outside any section")
            if pair[1] in target:
                raise ConfigError(f"config line {number}: {pair[1]} twice")
            target[pair[1]] = pair[2]
        else:
            raise ConfigError(f"config line {number}: not understood: {raw!r}")
    return config


def config_problems(text: str, role: str) -> list[str]:
    """Why this config is not safe to give Reticulum (empty when it is): only loopback TCP interfaces,
    share_instance off, panic on interface errors, transport only for the relay."""
    try:
        config = parse_config(text)
    except ConfigError as exc:
        return [str(exc)]
    problems = [f"unexpected section [{name}]" for name in config if name not in ("reticulum", "logging",
                                                                                      "interfaces")]
    ret = config.get("reticulum", {})
    problems += [f"[reticulum] {key} is not allowed here" for key in ret if key not in RETICULUM_KEYS]
    if ret.get("share_instance") not in ("No", "False", "no", "false"):
        problems.append("share_instance must be No (a shared instance opens a local socket and an RPC port)")
    if ret.get("panic_on_interface_error") not in ("Yes", "True", "yes", "true"):
        problems.append("panic_on_interface_error must be Yes")
    transport = ret.get("enable_transport", "No") in ("Yes", "True", "yes", "true")
    if transport != (role == "relay"):
        problems.append(f"enable_transport must be {'Yes' if role == 'relay' else 'No'} for a {role}")
    interfaces = config.get("interfaces", {})
    if not interfaces:
        problems.append("no interface at all")
    for name, iface in interfaces.items():
        if not isinstance(iface, dict):
            problems.append(f"[interfaces] {name} is not an interface section")
            continue
        kind = iface.get("type", "")
        if kind not in INTERFACE_KEYS:
            problems.append(f"interface {name!r}: type {kind or '(none)'} is not allowed (only TCP on loopback)")
            continue
        problems += [f"interface {name!r}: key {key} is not allowed" for key in iface
                     if key not in INTERFACE_KEYS[kind]]
        if iface.get(HOST_KEY[kind]) != LOOPBACK:
            problems.append(f"interface {name!r}: {HOST_KEY[kind]} must be {LOOPBACK}")
    servers = [i for i in interfaces.values() if isinstance(i, dict) and i.get("type") == "TCPServerInterface"]
    if len(servers) != 1:
        problems.append(f"exactly one TCPServerInterface expected, found {len(servers)}")
    return problems


def interface_problems(seen: list[tuple[str, str]]) -> list[str]:
    """Why the interfaces Reticulum holds are not all loopback TCP: `seen` is (class name, address) per
    interface, read from RNS.Transport.interfaces by the runtime part."""
    problems = []
    for kind, host in seen:
        if kind not in INTERFACE_KEYS:
            problems.append(f"Reticulum holds a {kind} interface: only TCP on {LOOPBACK} is allowed")
        elif host != LOOPBACK:
            problems.append(f"Reticulum holds a {kind} on {host!r}, not {LOOPBACK}")
    return problems
