"""The doctor's shell: gathers the facts the checks judge from this machine (files, sockets, interfaces,
statvfs, systemctl, the daemon). Each probe is one small function with its own timeout; ``run.Probes``
holds them so tests replace any of them with a fake that creates the problem to find.

Nothing here changes anything: the port probe binds and closes at once (no listen), the daemon probes ask
read-only ops, and the mDNS self-probe is one query for this node's own name on the interfaces its daemon
uses, sent only when that daemon runs with discovery on.
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings
from ..errors import MeshcareError, ProbeFailed
from .facts import DaemonFacts, DiskFact, FileFact, Interface

if TYPE_CHECKING:
    from .tor import TorProbe

#: Seconds the daemon has to answer each request of the doctor.
DAEMON_TIMEOUT = 3.0
#: Seconds systemctl has to answer.
SYSTEMCTL_TIMEOUT = 5.0
_IFF_UP = 0x1
_IFF_LOOPBACK = 0x8
_IFF_MULTICAST = 0x1000


def file_fact(path: Path) -> FileFact:
    """``lstat`` of ``path`` (a symlink is judged as itself: its target is not followed)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return FileFact(path, exists=False)
    import stat

    return FileFact(path, exists=True, is_dir=stat.S_ISDIR(st.st_mode), mode=stat.S_IMODE(st.st_mode), uid=st.st_uid)


def bind_errno(host: str, port: int) -> int:
    """0 when a listener could bind ``host``:``port`` now (with SO_REUSEADDR, as the daemon's), else the
    errno. Binds and closes at once; never listens."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host or ("::" if family == socket.AF_INET6 else "0.0.0.0"), port))
        except OSError as exc:
            return exc.errno or errno.EIO
    return 0


def port_results(host: str, port: int, tries: int) -> list[tuple[int, int]]:
    """(port, errno) for ``port`` and, while it is taken, the following ones up to ``tries`` ports,
    stopping at the first free one after the first."""
    out = [(port, bind_errno(host, port))]
    if out[0][1] != errno.EADDRINUSE:
        return out
    for candidate in range(port + 1, min(port + tries, 65536)):
        err = bind_errno(host, candidate)
        out.append((candidate, err))
        if err == 0:
            break
    return out


def _flags(name: str) -> int | None:
    try:
        return int(Path(f"/sys/class/net/{name}/flags").read_text().strip(), 16)
    except (OSError, ValueError):
        return None


def interfaces() -> list[Interface]:
    """This machine's interfaces with their flags (/sys/class/net) and IPv4 addresses (ifaddr). Where the
    flags cannot be read, an interface with an address counts as up with multicast (nothing to go on)."""
    import ifaddr

    out = []
    for adapter in ifaddr.get_adapters():
        name = str(adapter.name)
        ipv4 = tuple(str(ip.ip) for ip in adapter.ips if ip.is_IPv4)
        flags = _flags(name)
        if flags is None:
            loopback = any(a.startswith("127.") for a in ipv4)
            out.append(Interface(name, up=bool(ipv4), multicast=bool(ipv4) and not loopback, loopback=loopback,
                                 ipv4=ipv4))
        else:
            out.append(Interface(name, up=bool(flags & _IFF_UP), multicast=bool(flags & _IFF_MULTICAST),
                                 loopback=bool(flags & _IFF_LOOPBACK), ipv4=ipv4))
    return out


def disk_fact(path: Path) -> DiskFact:
    """``statvfs`` of the filesystem holding ``path`` (or its nearest existing parent)."""
    where = path
    while not where.exists() and where != where.parent:
        where = where.parent
    st = os.statvfs(where)
    return DiskFact(path=path, free_bytes=st.f_bavail * st.f_frsize, total_bytes=st.f_blocks * st.f_frsize,
                    free_inodes=st.f_favail, total_inodes=st.f_files)


def systemd_booted() -> bool:
    """True when systemd is PID 1 (sd_booted(3): /run/systemd/system exists)."""
    return Path("/run/systemd/system").is_dir()


def systemctl_show(unit: str, properties: tuple[str, ...]) -> str:
    """``systemctl show UNIT --property=...``'s output. Raises ProbeFailed if systemctl is missing,
    fails or does not answer within ``SYSTEMCTL_TIMEOUT`` seconds."""
    argv = ["systemctl", "show", unit, f"--property={','.join(properties)}"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=SYSTEMCTL_TIMEOUT, check=False,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ProbeFailed("systemctl is not installed here") from None
    except subprocess.TimeoutExpired:
        raise ProbeFailed(f"systemctl did not answer within {SYSTEMCTL_TIMEOUT:g} s") from None
    if done.returncode != 0:
        raise ProbeFailed(f"systemctl show {unit} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def daemon_facts(settings: Settings) -> DaemonFacts:
    """Who holds the lock, whether its control socket answers, and its ``node.health``."""
    from .. import launch
    from ..client import ControlClient
    from ..control.requests_doctor import NodeHealth
    from ..errors import DaemonUnavailable

    pid = launch.running_pid(settings)
    socket_exists = settings.control_path.exists()
    if not socket_exists:
        return DaemonFacts(pid=pid, answers=False, socket_exists=False, note="no control socket")
    answers = launch.answers(settings, timeout=DAEMON_TIMEOUT)
    if not answers:
        return DaemonFacts(pid=pid, answers=False, socket_exists=True, note="the control socket does not answer")
    try:
        with ControlClient.connect(settings.control_path, timeout=DAEMON_TIMEOUT) as client:
            data = client.request(NodeHealth.OP)
        health = NodeHealth().read_result(data)
    except DaemonUnavailable as exc:
        return DaemonFacts(pid=pid, answers=True, socket_exists=True, note=f"node.health: {exc}")
    except MeshcareError as exc:  # an older daemon without node.health, or an answer of another version
        return DaemonFacts(pid=pid, answers=True, socket_exists=True,
                           note=f"the running node does not tell its health ({exc}); restart it after an upgrade")
    return DaemonFacts(pid=pid, answers=True, socket_exists=True, health=health)


def mdns_probe(instance_name: str, addresses: tuple[str, ...], timeout: float = 3.0) -> bool:
    """Ask on the LAN (the interfaces ``addresses``, or all) for this node's own service ``instance_name``;
    True when its answer comes back. Sends multicast: run only when the daemon runs with discovery on."""
    from zeroconf import InterfaceChoice, Zeroconf

    from ..transport.discovery_records import SERVICE_TYPE

    zc = Zeroconf(interfaces=list(addresses) if addresses else InterfaceChoice.All)
    try:
        return zc.get_service_info(SERVICE_TYPE, instance_name, timeout=int(timeout * 1000)) is not None
    finally:
        zc.close()


#: Seconds tor's control port has to answer the doctor.
TOR_TIMEOUT = 3.0


def tor_control(where: str, timeout: float = TOR_TIMEOUT) -> TorProbe:
    """Connect to tor's control port ``where`` (a unix socket path, or HOST:PORT), ask PROTOCOLINFO (allowed
    before authenticating; it changes nothing), and try to read the cookie file tor names. Never
    authenticates: whether tor would let the node in is judged from the methods and the cookie's rights."""
    from ..config import parse_hostport
    from .tor import TorProbe, parse_protocolinfo

    if where.startswith("/"):
        family, address = socket.AF_UNIX, where
        target: str | tuple[str, int] = where
    else:
        host, port = parse_hostport(where, 9051)
        family, target = (socket.AF_INET6 if ":" in host else socket.AF_INET), (host, port)
        address = f"{host}:{port}"
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(target)
            s.sendall(b"PROTOCOLINFO 1\r\n")
            reply = b""
            while b"\r\n250 " not in b"\r\n" + reply and len(reply) < 8192:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
                if reply[:1] in (b"4", b"5"):
                    break
    except OSError as exc:
        code = exc.errno or 0
        words = os.strerror(code) if code else (str(exc) or type(exc).__name__)
        return TorProbe(address, reachable=False, error=words, denied=code in (errno.EACCES, errno.EPERM),
                        missing=code == errno.ENOENT)
    text = reply.decode("utf-8", "replace")
    if not text.startswith("250"):
        first = text.splitlines()[0] if text else "no answer"
        return TorProbe(address, reachable=False, error=f"it answered {first!r}, not as tor does")
    methods, cookie = parse_protocolinfo(text)
    readable = None
    if cookie:
        try:
            with open(cookie, "rb") as f:
                f.read(32)
            readable = True
        except PermissionError:
            readable = False
        except OSError:
            readable = None
    return TorProbe(address, reachable=True, methods=methods, cookie=cookie, cookie_readable=readable)
