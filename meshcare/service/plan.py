"""What ``meshcare service install`` and ``uninstall`` do, decided by pure functions from facts about the
machine (gathered by ``actions.gather``): a list of actions the shell carries out, or prints (``--dry-run``).

Two shapes (units.py): ``--user NAME`` installs the ``meshcare@.service`` template and enables
``meshcare@NAME``; ``--system`` installs ``meshcare.service`` under the ``meshcare`` system user. Install on
``/``: a venv at /opt/meshcare/venv made by Debian's python3 with ``--system-site-packages`` (so Debian's
python3-nacl and python3-msgpack serve on a 32-bit Pi and nothing compiles), meshcare pip-installed in it,
``/usr/local/bin/meshcare`` pointing at it, the unit, the owner's data dir, then ``systemctl daemon-reload``,
``try-restart`` (an update) and ``enable --now`` when systemd runs this machine (otherwise the commands are printed for later).

``--root DIR`` (packaging, tests): only files go into DIR (the unit, a drop-in, the command link); nothing
outside it is touched: no user is made, no venv (a venv's scripts name its absolute path, so one built under
DIR would not run from /opt; a package builds its own, e.g. with dh-virtualenv), no systemctl. What would
have happened is said in ``notes``.

Refusals (``BadInput``, exit 1): not root when installing on ``/``; a user that does not exist, is root, or
has no usable home; a source to install that cannot be found. Both ``--user`` and ``--system`` is a usage
error (argparse). Uninstall removes what install wrote and keeps the data (the notes say where), and the
``meshcare`` system user (its data is in /var/lib/meshcare).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Final

from ..errors import BadInput
from . import units
from .units import SYSTEM_UNIT, SYSTEM_USER, TEMPLATE_UNIT, UNIT_DIR, UnitOptions

WANTS_DIR: Final = UNIT_DIR / "multi-user.target.wants"
COMMAND_LINK: Final = PurePosixPath("/usr/local/bin/meshcare")
SYSTEM_DATA: Final = PurePosixPath("/var/lib/meshcare")
DEBIAN_PYTHON: Final = PurePosixPath("/usr/bin/python3")
UNUSABLE_HOMES: Final = frozenset({"", "/", "/nonexistent", "/dev/null"})


@dataclass(frozen=True, slots=True)
class Account:
    """One line of /etc/passwd, the parts the installer needs."""

    name: str
    uid: int
    gid: int
    home: str


def parse_passwd(text: str) -> dict[str, Account]:
    """The accounts of an /etc/passwd text (lines that do not parse are skipped)."""
    accounts: dict[str, Account] = {}
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) < 7 or line.startswith("#"):
            continue
        try:
            accounts[parts[0]] = Account(parts[0], int(parts[2]), int(parts[3]), parts[5])
        except ValueError:
            continue
    return accounts


@dataclass(frozen=True, slots=True)
class Machine:
    """Facts about the machine and the staging root, gathered by the shell (``actions.gather``).

    ``root``: "/" or the staging root. ``staging``: ``root`` is not "/". ``euid``: who runs us.
    ``systemd``: systemd is PID 1 here (``/run/systemd/system`` exists; sd_booted(3)). ``pid1``: its name,
    for the words when it is not systemd. ``account``: the ``--user`` account looked up (None: not found).
    ``system_user_exists``: the ``meshcare`` user exists. ``venv_exists``: the venv's python exists.
    ``existing``: the install's files already in place (target paths), and ``link_target`` what the
    command link points to (None: not a symlink or absent). ``dropins``/``wanted``: the ``meshcare@*``
    drop-ins we wrote and the units enabled (``multi-user.target.wants``), by unit name. ``accounts_from``:
    where users were looked up (this machine, or the staging root's etc/passwd), for the words.
    """

    root: PurePosixPath = PurePosixPath("/")
    euid: int = 0
    systemd: bool = False
    pid1: str = "?"
    account: Account | None = None
    system_user_exists: bool = False
    venv_exists: bool = False
    existing: frozenset[PurePosixPath] = frozenset()
    link_target: str | None = None
    dropins: tuple[str, ...] = ()
    wanted: tuple[str, ...] = ()
    accounts_from: str = "this machine"
    #: Tor (issue 15): the node's config.toml says ``tor = true``; the ``debian-tor`` group exists (tor is
    #: installed); the units that have the Tor drop-in we wrote
    tor_in_config: bool = False
    tor_group: bool = False
    tor_dropins: tuple[str, ...] = ()

    @property
    def staging(self) -> bool:
        return self.root != PurePosixPath("/")


@dataclass(frozen=True, slots=True)
class Request:
    """What the person asked: ``user`` (``--user NAME``) or ``system``; ``source``: what pip installs
    (a directory or a requirement; None when there is nothing to install from); ``python``: the
    interpreter that makes the venv; ``make_venv``: False with ``--no-venv``."""

    user: str | None = None
    system: bool = False
    source: str | None = None
    python: PurePosixPath = DEBIAN_PYTHON
    make_venv: bool = True
    options: UnitOptions = UnitOptions()
    #: ``--tor`` True, ``--no-tor`` False, neither None: as the node's config.toml says (``tor = true``)
    tor: bool | None = None

    @property
    def unit(self) -> str:
        """The unit people start and stop: ``meshcare@ana.service`` or ``meshcare.service``."""
        return SYSTEM_UNIT if self.system else units.instance(self.user or "")

    @property
    def unit_file(self) -> PurePosixPath:
        return UNIT_DIR / (SYSTEM_UNIT if self.system else TEMPLATE_UNIT)


# --- actions ----------------------------------------------------------------------------------------
# Paths are where they are on the target machine; the shell puts them under the root.

@dataclass(frozen=True, slots=True)
class WriteFile:
    path: PurePosixPath
    text: str
    mode: int = 0o644


@dataclass(frozen=True, slots=True)
class Symlink:
    path: PurePosixPath
    target: PurePosixPath


@dataclass(frozen=True, slots=True)
class MakeDataDir:
    """``path`` and the parents it needs below ``home``, owned by the account (the last one 0700)."""

    path: PurePosixPath
    home: PurePosixPath
    uid: int
    gid: int


@dataclass(frozen=True, slots=True)
class Remove:
    """A file or a symlink; ``tree``: a directory and all in it; ``if_empty``: a directory only if empty."""

    path: PurePosixPath
    tree: bool = False
    if_empty: bool = False


@dataclass(frozen=True, slots=True)
class PipInstall:
    """``pip install --upgrade SOURCE`` with the venv's python. A directory is copied to a temporary one
    first, so that the build (as root) leaves nothing in the person's checkout."""

    venv: PurePosixPath
    source: str

    @property
    def argv(self) -> tuple[str, ...]:
        return (str(self.venv / "bin/python"), "-m", "pip", "install", "--quiet", "--upgrade", self.source)


@dataclass(frozen=True, slots=True)
class Run:
    """A command run on this machine (useradd, the venv's pip, systemctl)."""

    argv: tuple[str, ...]


Action = WriteFile | Symlink | MakeDataDir | Remove | PipInstall | Run


def describe(action: Action) -> dict[str, Any]:
    """One action as a JSON object (``--json``'s ``actions``; docs/cli.md)."""
    if isinstance(action, WriteFile):
        return {"action": "write", "path": str(action.path), "mode": f"{action.mode:04o}"}
    if isinstance(action, Symlink):
        return {"action": "symlink", "path": str(action.path), "target": str(action.target)}
    if isinstance(action, MakeDataDir):
        return {"action": "mkdir", "path": str(action.path), "uid": action.uid, "gid": action.gid}
    if isinstance(action, Remove):
        return {"action": "remove", "path": str(action.path), "tree": action.tree}
    if isinstance(action, PipInstall):
        return {"action": "pip", "argv": list(action.argv), "venv": str(action.venv), "source": action.source}
    return {"action": "run", "argv": list(action.argv)}


def words(action: Action) -> str:
    """One action in words, for people (and ``--dry-run``)."""
    if isinstance(action, WriteFile):
        return f"write {action.path} (mode {action.mode:04o})"
    if isinstance(action, Symlink):
        return f"link {action.path} -> {action.target}"
    if isinstance(action, MakeDataDir):
        return f"make the data directory {action.path} (owner uid {action.uid}, mode 0700)"
    if isinstance(action, Remove):
        kind = "the directory " if action.tree else "the empty directory " if action.if_empty else ""
        return f"remove {kind}{action.path}"
    if isinstance(action, PipInstall):
        return f"install {action.source} into {action.venv} (pip)"
    return "run " + " ".join(_quote(a) for a in action.argv)


def _quote(arg: str) -> str:
    import shlex  # noqa: PLC0415

    return shlex.quote(arg)


@dataclass(frozen=True, slots=True)
class Plan:
    """``actions`` in order; ``later``: commands the person runs (systemd is not running here, or a staging
    root); ``notes``: what else they should know; ``data_dir``: where the node keeps its data."""

    unit: str
    actions: tuple[Action, ...]
    later: tuple[tuple[str, ...], ...] = ()
    notes: tuple[str, ...] = ()
    data_dir: PurePosixPath | None = None
    tor: bool = False

    def to_json(self, root: PurePosixPath, dry_run: bool) -> dict[str, Any]:
        return {"unit": self.unit, "root": str(root), "dry_run": dry_run, "tor": self.tor,
                "data_dir": None if self.data_dir is None else str(self.data_dir),
                "actions": [describe(a) for a in self.actions],
                "commands_to_run": [list(argv) for argv in self.later], "notes": list(self.notes)}


# --- install ----------------------------------------------------------------------------------------

def _systemd_words(machine: Machine) -> str:
    return (f"systemd is not running on this machine (PID 1 is {machine.pid1}), so nothing was started: on "
            "the Pi, run the commands below as root")


def owner_data_dir(account: Account) -> PurePosixPath:
    """The owner's data dir: what ``meshcare`` uses when they run it (``~/.local/share/meshcare``)."""
    return PurePosixPath(account.home) / ".local/share/meshcare"


def check_account(name: str, account: Account | None, machine: Machine) -> Account:
    """The ``--user`` account, or BadInput saying why it cannot run the node."""
    if account is None:
        raise BadInput(f"there is no user {name!r} in {machine.accounts_from}: give the name of the person who "
                       f"runs meshcare here (`id -un` as them), or use --system for a relay with its own user")
    if account.uid == 0:
        raise BadInput("the node must not run as root: give the person's own user with --user NAME, or use "
                       "--system for a relay with its own user")
    if account.home.rstrip("/") in UNUSABLE_HOMES or not account.home.startswith("/"):
        raise BadInput(f"user {name!r} has no home directory ({account.home or 'none'}) to keep the node's data "
                       "in: give a person's user, or use --system")
    return account


def plan_install(request: Request, machine: Machine) -> Plan:
    """The install of ``request`` on ``machine``. Raises BadInput for the refusals (module docstring)."""
    if not machine.staging and machine.euid != 0:
        raise BadInput("installing a service writes to /etc and /opt: run it as root (sudo meshcare service "
                       "install ..., or sudo make install), or use --root DIR to write into a staging "
                       "directory, or --dry-run to see what it would do")
    actions: list[Action] = []
    notes: list[str] = []
    opts = request.options
    if request.system:
        data_dir = SYSTEM_DATA
        if machine.system_user_exists:
            notes.append(f"the system user {SYSTEM_USER} exists already; kept as it is")
        elif machine.staging:
            notes.append(f"on the target machine, create the system user first: {' '.join(_useradd())}")
        else:
            actions.append(Run(_useradd()))
        actions.append(WriteFile(UNIT_DIR / SYSTEM_UNIT, units.system_unit(opts)))
    else:
        if request.user is None:
            raise BadInput("say whose node this is with --user NAME, or use --system for a relay")
        account = check_account(request.user, machine.account, machine)
        data_dir = owner_data_dir(account)
        actions.append(WriteFile(UNIT_DIR / TEMPLATE_UNIT, units.template_unit(opts)))
        dropin = _dropin_path(request.user)
        if data_dir != units.user_data_dir(request.user):
            actions.append(WriteFile(dropin, units.home_dropin(data_dir)))
            notes.append(f"{request.user}'s home is {account.home}, not /home/{request.user}: {dropin} "
                         "gives the service the real data directory")
        elif dropin in machine.existing:
            actions.append(Remove(dropin))
        if machine.staging:
            notes.append(f"on the target machine, the data directory {data_dir} must exist and belong to "
                         f"{request.user} (mode 0700) before the service starts")
        else:
            actions.append(MakeDataDir(data_dir, PurePosixPath(account.home), account.uid, account.gid))
    use_tor = _tor_actions(request, machine, data_dir, actions, notes)
    venv = opts.venv
    if not request.make_venv:
        notes.append(f"the venv was left as it is (--no-venv): {opts.executable} must exist")
    elif machine.staging:
        notes.append(f"no venv under a staging root: on the target machine, {opts.executable} must exist "
                     f"(e.g. {request.python} -m venv --system-site-packages {venv}; {venv}/bin/pip install "
                     "meshcare)")
    else:
        if request.source is None:
            raise BadInput("cannot tell what to install into the venv: run it from meshcare's source directory "
                           "(make install), or give --source DIR (a checkout) or --source 'meshcare==VERSION'")
        if not machine.venv_exists:
            actions.append(Run((str(request.python), "-m", "venv", "--system-site-packages", str(venv))))
        actions.append(PipInstall(venv, request.source))
    if machine.link_target is None and COMMAND_LINK in machine.existing:
        notes.append(f"{COMMAND_LINK} exists and is not a link; left as it is (run {opts.executable} instead)")
    elif machine.link_target != str(opts.executable):
        actions.append(Symlink(COMMAND_LINK, opts.executable))
    # try-restart: an update replaces the code of a running node (a first install has none running)
    enable = (("systemctl", "daemon-reload"), ("systemctl", "try-restart", request.unit),
              ("systemctl", "enable", "--now", request.unit))
    later: tuple[tuple[str, ...], ...] = ()
    if machine.staging:
        later = enable
        notes.append("nothing outside the staging root was touched; on the target machine run the commands below")
    elif machine.systemd:
        actions += [Run(argv) for argv in enable]
    else:
        later = enable
        notes.append(_systemd_words(machine))
    notes.append(f"the node keeps its data in {data_dir}; see it with `{_status_hint(request)}`")
    return Plan(request.unit, tuple(actions), later, tuple(notes), data_dir, use_tor)


def tor_dropin_path(unit: str) -> PurePosixPath:
    """Where the Tor drop-in of ``unit`` (``meshcare@ana.service``, ``meshcare.service``) goes."""
    return UNIT_DIR / f"{unit}.d" / units.TOR_DROPIN_NAME


def _tor_actions(request: Request, machine: Machine, data_dir: PurePosixPath, actions: list[Action],
                 notes: list[str]) -> bool:
    """Write (or remove) the unit's Tor drop-in: with ``--tor``, or when the node's config.toml says
    ``tor = true`` and ``--no-tor`` was not given. Refuses on / when tor is not installed (the unit would
    fail to start: systemd cannot give it a group that does not exist). True when the node uses Tor."""
    use_tor = machine.tor_in_config if request.tor is None else request.tor
    dropin = tor_dropin_path(request.unit)
    if not use_tor:
        if dropin in machine.existing:
            actions += [Remove(dropin), Remove(dropin.parent, if_empty=True)]
        return False
    if not machine.tor_group:
        if not machine.staging:
            raise BadInput(f"tor is not installed here (there is no {units.TOR_GROUP} group): `sudo apt install tor`, "
                           "then run this again" + ("; or leave Tor out with --no-tor (config.toml says tor = true)"
                                                    if request.tor is None else "; or leave out --tor"))
        notes.append(f"on the target machine, install tor first (`apt install tor`): the unit runs the node with "
                     f"the {units.TOR_GROUP} group")
    actions.append(WriteFile(dropin, units.tor_dropin()))
    why = "--tor" if request.tor else "config.toml says tor = true"
    notes.append(f"Tor ({why}): the node starts with Debian's tor (tor.service) and may use its control socket "
                 f"/run/tor/control ({units.TOR_GROUP} group); {dropin} says so")
    if not machine.tor_in_config:
        notes.append(f"the node uses Tor only once its config.toml says so: add `tor = true` to "
                     f"{data_dir}/config.toml, then restart it (`systemctl restart {request.unit}`)")
    return True


def _useradd() -> tuple[str, ...]:
    return ("useradd", "--system", "--user-group", "--home-dir", str(SYSTEM_DATA), "--no-create-home",
            "--shell", "/usr/sbin/nologin", SYSTEM_USER)


def _dropin_path(user: str) -> PurePosixPath:
    return UNIT_DIR / f"{units.instance(user)}.d" / units.DROPIN_NAME


def _status_hint(request: Request) -> str:
    if request.system:
        return f"sudo -u {SYSTEM_USER} meshcare --home {SYSTEM_DATA} status"
    return f"meshcare status (as {request.user})"


# --- uninstall --------------------------------------------------------------------------------------

def plan_uninstall(request: Request, machine: Machine) -> Plan:
    """Remove what install wrote. ``--user NAME``: that owner's service, and the shared files (template, venv,
    command link) only when no other node's service is left; ``--system``: the relay's; neither:
    everything. The data dirs and the ``meshcare`` user stay (the notes say where and how to remove them)."""
    if not machine.staging and machine.euid != 0:
        raise BadInput("removing the service writes to /etc and /opt: run it as root (sudo meshcare service "
                       "uninstall ...), or --dry-run to see what it would do")
    every = request.user is None and not request.system
    ours = _instances_ours(request, machine, every)
    others = [u for u in _all_instances(machine) if u not in ours]
    actions: list[Action] = []
    later: list[tuple[str, ...]] = []
    notes: list[str] = []
    stop = [("systemctl", "disable", "--now", unit) for unit in ours]
    if machine.systemd and not machine.staging:
        actions += [Run(argv) for argv in stop]
    else:
        later += stop
        actions += [Remove(WANTS_DIR / unit) for unit in ours if unit in machine.wanted]
        if stop and not machine.staging:
            notes.append(_systemd_words(machine).replace("nothing was started", "nothing could be stopped"))
    for unit in ours:
        if unit.startswith("meshcare@") and unit in machine.dropins:
            dropin = _dropin_path(unit[len("meshcare@"):-len(".service")])
            actions += [Remove(dropin), Remove(dropin.parent, if_empty=True)]
        if unit in machine.tor_dropins:
            actions += [Remove(tor_dropin_path(unit)), Remove(tor_dropin_path(unit).parent, if_empty=True)]
    template_users = [u for u in others if u.startswith("meshcare@")]
    shared_left = bool(others)
    if (request.system or every) and UNIT_DIR / SYSTEM_UNIT in machine.existing:
        actions.append(Remove(UNIT_DIR / SYSTEM_UNIT))
    if not template_users and UNIT_DIR / TEMPLATE_UNIT in machine.existing and (every or request.user):
        actions.append(Remove(UNIT_DIR / TEMPLATE_UNIT))
    if shared_left:
        notes.append(f"kept the venv and {COMMAND_LINK}: {', '.join(others)} still uses them")
    else:
        venv = request.options.venv
        if machine.link_target == str(request.options.executable):
            actions.append(Remove(COMMAND_LINK))
        if venv in machine.existing:
            actions += [Remove(venv, tree=True), Remove(venv.parent, if_empty=True)]
    if machine.systemd and not machine.staging:
        actions.append(Run(("systemctl", "daemon-reload")))
    elif later:
        later.append(("systemctl", "daemon-reload"))
    notes += _kept(request, machine, ours, every)
    return Plan(request.unit if not every else "meshcare", tuple(actions), tuple(later), tuple(notes),
                SYSTEM_DATA if request.system else owner_data_dir(machine.account) if machine.account else None)


def _all_instances(machine: Machine) -> list[str]:
    found = set(machine.wanted) | set(machine.dropins) | set(machine.tor_dropins)
    return sorted(u for u in found if u == SYSTEM_UNIT or u.startswith("meshcare@"))


def _instances_ours(request: Request, machine: Machine, every: bool) -> list[str]:
    if every:
        found = _all_instances(machine)
        if UNIT_DIR / SYSTEM_UNIT in machine.existing and SYSTEM_UNIT not in found:
            found.append(SYSTEM_UNIT)       # installed but not enabled: it may still run
        return found
    return [request.unit]


def _kept(request: Request, machine: Machine, ours: Sequence[str], every: bool) -> list[str]:
    notes = []
    if request.system or (every and SYSTEM_UNIT in ours):
        notes.append(f"kept the relay's data in {SYSTEM_DATA} and the system user {SYSTEM_USER}; to remove them "
                     f"too: userdel {SYSTEM_USER} && rm -r {SYSTEM_DATA}")
    if request.user and machine.account is not None:
        notes.append(f"kept {request.user}'s node data in {owner_data_dir(machine.account)} (their identity and "
                     "circles): `meshcare` as them still uses it")
    elif every:
        notes.append("kept each owner's node data in ~/.local/share/meshcare (their identity and circles)")
    return notes


def unit_files(machine: Machine) -> Mapping[str, bool]:
    """Which of the two unit files are in place (for ``status``)."""
    return {TEMPLATE_UNIT: UNIT_DIR / TEMPLATE_UNIT in machine.existing,
            SYSTEM_UNIT: UNIT_DIR / SYSTEM_UNIT in machine.existing}

