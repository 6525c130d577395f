"""The shell of ``meshcare service``: gather the facts a plan is made from, and carry a plan out.

Every path of a plan is a path on the target machine; here it is put under the root (``/`` or the staging
root of ``--root``). Commands (useradd, the venv's pip, systemctl) run only when installing on ``/``; a plan
for a staging root has none (plan.py). A command that fails stops the install with its own words.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from ..errors import BadInput, ServiceError
from . import plan as p
from .units import DROPIN_NAME, SYSTEM_UNIT, SYSTEM_USER, TEMPLATE_UNIT, TOR_DROPIN_NAME, TOR_GROUP, UNIT_DIR


def under(root: Path, path: PurePosixPath) -> Path:
    """``path`` of the target machine inside ``root``."""
    return root / path.relative_to("/")


def _pid1() -> str:
    try:
        return Path("/proc/1/comm").read_text().strip() or "?"
    except OSError:
        return "?"


def lookup(name: str, root: Path) -> p.Account | None:
    """The account ``name``: from ROOT/etc/passwd under a staging root that has one, else this machine's."""
    passwd = root / "etc/passwd"
    if root != Path("/") and passwd.exists():
        return p.parse_passwd(passwd.read_text()).get(name)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return p.Account(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


def gather(request: p.Request, root: Path) -> p.Machine:
    """The facts ``plan_install``/``plan_uninstall`` need, read from this machine and ``root``."""
    opts = request.options
    candidates = [UNIT_DIR / TEMPLATE_UNIT, UNIT_DIR / SYSTEM_UNIT, p.COMMAND_LINK, opts.venv]
    unit_dir = under(root, UNIT_DIR)
    dropins: list[str] = []
    if unit_dir.is_dir():
        for d in sorted(unit_dir.glob("meshcare@*.service.d")):
            if (d / DROPIN_NAME).exists():
                dropins.append(d.name[:-2])
                candidates.append(UNIT_DIR / d.name / DROPIN_NAME)
    if request.user:
        candidates.append(UNIT_DIR / f"meshcare@{request.user}.service.d" / DROPIN_NAME)
    tor_dropins: list[str] = []
    if unit_dir.is_dir():
        for d in sorted([*unit_dir.glob("meshcare@*.service.d"), unit_dir / f"{SYSTEM_UNIT}.d"]):
            if (d / TOR_DROPIN_NAME).exists():
                tor_dropins.append(d.name[:-2])
    candidates += [p.tor_dropin_path(unit) for unit in {*tor_dropins, request.unit}]
    wants = under(root, p.WANTS_DIR)
    wanted = sorted(f.name for f in wants.glob("meshcare*.service")) if wants.is_dir() else []
    link = under(root, p.COMMAND_LINK)
    account = lookup(request.user, root) if request.user else None
    return p.Machine(
        root=PurePosixPath(root), euid=os.geteuid(), systemd=Path("/run/systemd/system").is_dir(), pid1=_pid1(),
        account=account,
        system_user_exists=lookup(SYSTEM_USER, root) is not None,
        venv_exists=under(root, opts.venv / "bin/python").exists(),
        existing=frozenset(c for c in candidates if os.path.lexists(under(root, c))),
        link_target=os.readlink(link) if link.is_symlink() else None,
        dropins=tuple(dropins), wanted=tuple(wanted),
        accounts_from=str(root / "etc/passwd") if root != Path("/") and (root / "etc/passwd").exists()
        else "this machine",
        tor_in_config=_tor_in_config(request, account, root), tor_group=_group_exists(TOR_GROUP, root),
        tor_dropins=tuple(tor_dropins))


def _tor_in_config(request: p.Request, account: p.Account | None, root: Path) -> bool:
    """The node's config.toml (under ``root``) says ``tor = true``. Unreadable or not TOML: False (the
    daemon reports a broken config.toml itself, in its own words, when it starts)."""
    import tomllib

    if request.system:
        data_dir = p.SYSTEM_DATA
    elif account is not None:
        data_dir = p.owner_data_dir(account)
    else:
        return False
    try:
        with open(under(root, data_dir / "config.toml"), "rb") as f:
            return tomllib.load(f).get("tor") is True
    except (OSError, tomllib.TOMLDecodeError):
        return False


def _group_exists(name: str, root: Path) -> bool:
    """The group ``name``: in ROOT/etc/group under a staging root that has one, else on this machine."""
    import grp

    group = root / "etc/group"
    if root != Path("/") and group.exists():
        return any(line.split(":", 1)[0] == name for line in group.read_text().splitlines())
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def execute(plan: p.Plan, root: Path, say: Callable[[str], None]) -> None:
    """Carry out ``plan`` under ``root``, saying each step. Raises ServiceError (or OSError) when a step fails.
    Under a staging root, the directories a removal leaves empty go too (install made them), so an
    install and an uninstall leave the root as it was."""
    for action in plan.actions:
        say(p.words(action))
        _one(action, root)
        if isinstance(action, p.Remove) and root != Path("/"):
            _prune(under(root, action.path).parent, root)


def _prune(directory: Path, root: Path) -> None:
    while directory != root and root in directory.parents and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def _one(action: p.Action, root: Path) -> None:
    if isinstance(action, p.WriteFile):
        path = under(root, action.path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        tmp = path.with_name(path.name + ".new")
        tmp.write_text(action.text)
        os.chmod(tmp, action.mode)
        os.replace(tmp, path)
    elif isinstance(action, p.Symlink):
        path = under(root, action.path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        if path.is_symlink():
            path.unlink()
        path.symlink_to(action.target)
    elif isinstance(action, p.MakeDataDir):
        _make_data_dir(action, root)
    elif isinstance(action, p.Remove):
        path = under(root, action.path)
        if action.tree:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
        elif action.if_empty:
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        elif os.path.lexists(path):
            path.unlink()
    elif isinstance(action, p.PipInstall):
        _pip_install(action)
    else:
        _run(action.argv)


#: What a copy of a checkout leaves out: venvs, build output, caches, history.
_NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".mypy_cache",
                                     ".pytest_cache", ".hypothesis", ".fuzz", "bench-out")


def _pip_install(action: p.PipInstall) -> None:
    source = Path(action.source)
    if not (source / "pyproject.toml").is_file():
        _run(action.argv)
        return
    with tempfile.TemporaryDirectory(prefix="meshcare-install-") as tmp:
        copy = Path(tmp) / "meshcare"
        shutil.copytree(source, copy, ignore=_NOT_COPIED, symlinks=True)
        _run((*action.argv[:-1], str(copy)))


def _make_data_dir(action: p.MakeDataDir, root: Path) -> None:
    """Each missing directory from the owner's home down to the data dir, made and given to the owner
    (a parent made by root would lock the owner out of their own ~/.local)."""
    home = under(root, action.home)
    if not home.is_dir():
        raise BadInput(f"the home directory {action.home} does not exist: create it (or give a user who has one)")
    path = home
    for part in action.path.relative_to(action.home).parts:
        path = path / part
        if not path.exists():
            path.mkdir(mode=0o700 if path == under(root, action.path) else 0o755)
            os.chown(path, action.uid, action.gid)
    final = under(root, action.path)
    st = final.stat()
    if (st.st_uid, st.st_gid) != (action.uid, action.gid) or st.st_mode & 0o077:
        os.chown(final, action.uid, action.gid)
        os.chmod(final, 0o700)


def _run(argv: tuple[str, ...]) -> None:
    try:
        out = subprocess.run(list(argv), capture_output=True, text=True, timeout=1800)
    except FileNotFoundError:
        raise ServiceError(f"{argv[0]} is not installed here; it is needed for: {' '.join(argv)}") from None
    if out.returncode != 0:
        lines = (out.stderr or out.stdout).strip().splitlines()
        raise ServiceError(f"`{' '.join(argv)}` failed (exit {out.returncode}): "
                            f"{lines[-1] if lines else 'no message'}")
