"""``meshcare service install|status|uninstall``: meshcare as a systemd service (docs/raspberry-pi.md).

The decisions are in ``meshcare.service.plan`` (pure) and the file work in ``meshcare.service.actions``;
this module reads the flags, prints, and maps refusals to exit 1 (argparse's usage errors exit 2).
Everything heavy is imported inside the command functions (``meshcare --help`` is measured).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from .common import EXIT_OK, EXIT_USAGE, add_command, emit

_SIZE = re.compile(r"^(\d+(\.\d+)?[KMGT]?|\d{1,3}%|infinity)$")


def _size(text: str) -> str:
    """A systemd memory size (``150M``, ``1G``, ``40%``, ``infinity``); ArgumentTypeError otherwise (exit 2)."""
    if not _SIZE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a memory size: write e.g. 150M, 1G, 40% or infinity")
    return text


def _source() -> str | None:
    """The meshcare checkout this runs from (``make install``), or None when it runs from a venv."""
    here = Path(__file__).resolve().parents[2]
    return str(here) if (here / "pyproject.toml").is_file() and (here / "meshcare").is_dir() else None


def _request(args: argparse.Namespace, *, install: bool) -> Any:
    from ..service import plan, units  # noqa: PLC0415

    user = args.user
    if install and user is None and not args.system:
        sudo_user = os.environ.get("SUDO_USER")
        user = sudo_user if sudo_user and sudo_user != "root" else None
    opts = units.UnitOptions()
    extra: dict[str, Any] = {}
    if install:
        opts = units.UnitOptions(memory_high=args.memory_high or opts.memory_high,
                                 memory_max=args.memory_max or opts.memory_max)
        extra = {"source": args.source or _source(), "python": PurePosixPath(args.python),
                 "make_venv": not args.no_venv, "tor": args.tor}
    return plan.Request(user=user, system=args.system, options=opts, **extra)


def _root(args: argparse.Namespace) -> Path:
    return Path(os.path.abspath(args.root)) if args.root else Path("/")


def _show(args: argparse.Namespace, the_plan: Any, root: Path, done: bool, title: str) -> None:
    from ..service import plan  # noqa: PLC0415

    data = the_plan.to_json(PurePosixPath(root), args.dry_run)
    data["done"] = done
    lines = [title] + ["  " + plan.words(a) for a in the_plan.actions]
    if not the_plan.actions:
        lines.append("  nothing to do")
    lines += the_plan.notes and [""] + [f"Note: {n}." for n in the_plan.notes] or []
    if the_plan.later:
        lines += ["", "Commands to run:"] + ["  " + " ".join(argv) for argv in the_plan.later]
    emit(args, data, "\n".join(lines))


def cmd_install(args: argparse.Namespace, _settings: Any) -> int:
    from ..service import plan  # noqa: PLC0415

    request = _request(args, install=True)
    if request.user is None and not request.system:
        print("meshcare service install: say whose node this is with --user NAME (the person who runs meshcare "
              "on this machine), or --system for a relay node with its own user", file=sys.stderr)
        return EXIT_USAGE
    return _carry_out(args, request, plan.plan_install, "Would install {unit} under {root} (--dry-run: nothing "
                      "written):", "Installed {unit} under {root}:")


def _carry_out(args: argparse.Namespace, request: Any, planner: Any, would: str, did: str) -> int:
    """What install and uninstall share: gather the machine's facts, plan, then show the plan (a dry run,
    as root would do it, since it writes nothing) or carry it out and show what was done."""
    from ..service import actions  # noqa: PLC0415

    root = _root(args)
    machine = actions.gather(request, root)
    if args.dry_run:
        machine = _as_root(machine)
    the_plan = planner(request, machine)
    if args.dry_run:
        _show(args, the_plan, root, False, would.format(unit=the_plan.unit, root=root))
        return EXIT_OK
    actions.execute(the_plan, root, lambda _: None)
    _show(args, the_plan, root, True, did.format(unit=the_plan.unit, root=root))
    return EXIT_OK


def _as_root(machine: Any) -> Any:
    """A dry run as someone else shows what root would do (it writes nothing, so it needs no rights)."""
    import dataclasses  # noqa: PLC0415

    return dataclasses.replace(machine, euid=0)


def cmd_uninstall(args: argparse.Namespace, _settings: Any) -> int:
    from ..service import plan  # noqa: PLC0415

    request = _request(args, install=False)
    return _carry_out(args, request, plan.plan_uninstall, "Would remove {unit} under {root} (--dry-run: nothing "
                      "removed):", "Removed {unit} under {root}:")


def cmd_status(args: argparse.Namespace, _settings: Any) -> int:
    from ..service import status  # noqa: PLC0415

    data = status.service_status(_root(args), args.user, args.system)
    emit(args, data, status.words(data))
    return EXIT_OK


def _who(p: argparse.ArgumentParser, verb: str) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--user", metavar="NAME",
                       help=f"{verb} meshcare@NAME.service: NAME's own node, run as NAME with NAME's data "
                            "(~NAME/.local/share/meshcare), so `meshcare tui` as NAME talks to it")
    group.add_argument("--system", action="store_true",
                       help=f"{verb} meshcare.service: a relay node run by the 'meshcare' system user, data in "
                            "/var/lib/meshcare")
    p.add_argument("--root", metavar="DIR",
                   help="work on files under DIR instead of / (packaging, tests): no user, no venv, no systemctl")


def register(sub: Any) -> None:
    """Add the ``service`` command group to the top-level subparsers ``sub``."""
    service = sub.add_parser("service", help="run meshcare as a systemd service: install, status, uninstall",
                             description="Run meshcare as a hardened systemd service that starts at boot "
                                         "(a Raspberry Pi at home: docs/raspberry-pi.md).",
                             prog="meshcare service")
    service_sub = service.add_subparsers(dest="service_command", metavar="SUBCOMMAND", required=True)

    p = add_command(service_sub, "install", cmd_install,
                    "install the service: a venv in /opt/meshcare/venv, the systemd unit, and start it at boot",
                    "sudo meshcare service install --user ana\n"
                    "sudo meshcare service install --user ana --tor\n"
                    "sudo meshcare service install --system --dry-run\n"
                    "meshcare service install --user ana --root /tmp/stage",
                    prog="service install",
                    more="The venv is made by /usr/bin/python3 with --system-site-packages, so Debian's "
                         "python3-nacl and python3-msgpack are used where installed (32-bit Raspberry Pi OS: "
                         "nothing compiles). Run it as root; with neither --user nor --system it installs the node "
                         "of the person who ran sudo. When systemd is not running this machine (a container), it "
                         "prints the systemctl commands to run instead. Run it again to update.")
    _who(p, "install")
    p.add_argument("--dry-run", action="store_true", help="print what it would do and write nothing")
    p.add_argument("--source", metavar="SPEC",
                   help="what pip installs into the venv: a meshcare checkout or a requirement "
                        "(default: the checkout this command runs from)")
    p.add_argument("--python", default="/usr/bin/python3", metavar="PATH",
                   help="the interpreter that makes the venv (default: Debian's /usr/bin/python3)")
    p.add_argument("--no-venv", action="store_true",
                   help="leave the venv alone (it exists, or your package provides it); write the unit only")
    p.add_argument("--memory-high", type=_size, metavar="SIZE",
                   help="MemoryHigh= of the unit (default 128M; figures: docs/benchmarks.md section 14)")
    p.add_argument("--memory-max", type=_size, metavar="SIZE", help="MemoryMax= of the unit (default 192M)")
    tor = p.add_mutually_exclusive_group()
    tor.add_argument("--tor", dest="tor", action="store_true", default=None,
                     help="the node uses Debian's tor: start tor with it (Wants=/After=tor.service) and let it use "
                          "tor's control socket (SupplementaryGroups=debian-tor); the default when the node's "
                          "config.toml says tor = true (docs/operations.md, 'Tor')")
    tor.add_argument("--no-tor", dest="tor", action="store_false",
                     help="no Tor lines, even when config.toml says tor = true (removes them from an earlier install)")
    p.set_defaults(needs_settings=False)

    p = add_command(service_sub, "status", cmd_status,
                    "is the service installed, enabled and running, and what does its daemon say",
                    "meshcare service status\nsudo meshcare service status --system --json",
                    prog="service status",
                    more="Installed and enabled come from the unit files; running comes from systemctl, and "
                         "cannot be known on a machine where systemd is not PID 1 (it says so). The daemon's "
                         "own status is asked over its control socket, which only its user (or root) may open.")
    _who(p, "report on")
    p.set_defaults(needs_settings=False)

    p = add_command(service_sub, "uninstall", cmd_uninstall,
                    "stop and remove the service, its venv and its command link; keep the node's data",
                    "sudo meshcare service uninstall --user ana\nsudo meshcare service uninstall",
                    prog="service uninstall",
                    more="With --user NAME only NAME's service goes (the shared venv stays while another "
                         "node's service uses it); with neither flag, every meshcare service. The data "
                         "directories and the 'meshcare' system user stay: it says where and how to remove them.")
    _who(p, "remove")
    p.add_argument("--dry-run", action="store_true", help="print what it would do and remove nothing")
    p.set_defaults(needs_settings=False)
