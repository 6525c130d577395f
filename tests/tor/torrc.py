"""The torrc files of the private Tor network, and the directory authorities' keys (tests/tor/network.py).

The templates are the trial's (research notes section 4.2) as they ran there: every tor gets
``TestingTorNetwork 1`` (tor refuses it without custom ``DirAuthority`` lines, so a typo cannot fall back
to the public authorities), the run's own three ``DirAuthority`` lines, ``UseDefaultFallbackDirs 0`` and
``ServerDNSResolvConfFile`` (relays would otherwise read the host's resolver). ``is_private`` is the check
the harness makes before it starts any tor.

Keys (notes 4.1): ``tor-gencert`` makes each authority's identity and signing keys and certificate for
this run only (a committed certificate would need the CI clock inside its 12-month validity), then
``tor --list-fingerprint`` (a tor that only writes its keys and prints; it still needs TestingTorNetwork
and some DirAuthority, so it gets a dummy one) gives the relay fingerprint of the ``DirAuthority`` line.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.netns.harness import NetnsError, run_command

ORPORT, DIRPORT = 5000, 7000
SOCKS_PORT, CONTROL_PORT = 9050, 9051
INTERVAL, DELAY = 10, 2       # voting interval and vote/dist delays (notes 4.2 and 10: not below 10)

_COMMON = """\
TestingTorNetwork 1
DataDirectory {datadir}
PidFile {datadir}/pid
Nickname {nick}
Log notice file {datadir}/notice.log
SafeLogging 0
LogTimeGranularity 1
ShutdownWaitLength 0
UseDefaultFallbackDirs 0
{dirauthorities}
AssumeReachable 1
PathsNeededToBuildCircuits 0.67
ClientUseIPv6 0
ServerDNSResolvConfFile {resolvconf}
"""
_AUTHORITY = """\
Address {ip}
ORPort {ip}:{orport}
DirPort {ip}:{dirport}
SocksPort 0
ExitRelay 0
ContactInfo torbed-{nick}@example.invalid
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
TestingV3AuthInitialVotingInterval {interval}
TestingV3AuthInitialVoteDelay {delay}
TestingV3AuthInitialDistDelay {delay}
V3AuthVotingInterval {interval}
V3AuthVoteDelay {delay}
V3AuthDistDelay {delay}
V3AuthNIntervalsValid 2
TestingDirAuthVoteGuard *
TestingDirAuthVoteExit *
TestingDirAuthVoteHSDir *
TestingMinExitFlagThreshold 0
"""
_RELAY = """\
Address {ip}
ORPort {ip}:{orport}
SocksPort 0
ExitRelay 0
ContactInfo torbed-{nick}@example.invalid
"""
_CLIENT = """\
Log info file {datadir}/info.log
SocksPort 127.0.0.1:{socks} ExtendedErrors
ControlPort 127.0.0.1:{control}
CookieAuthentication 1
"""


def render(role: str, *, datadir: Path, nick: str, ip: str, dirauthorities: list[str], resolvconf: Path) -> str:
    """The torrc of one tor: ``role`` is "authority", "relay" or "client"."""
    text = _COMMON.format(datadir=datadir, nick=nick, dirauthorities="\n".join(dirauthorities),
                          resolvconf=resolvconf)
    template = {"authority": _AUTHORITY, "relay": _RELAY, "client": _CLIENT}[role]
    return text + template.format(ip=ip, orport=ORPORT, dirport=DIRPORT, nick=nick, interval=INTERVAL,
                                  delay=DELAY, datadir=datadir, socks=SOCKS_PORT, control=CONTROL_PORT)


def is_private(torrc: str, first_authority: str) -> bool:
    """Whether ``torrc`` is one of this test bed's: a testing network with our own authorities only."""
    lines = set(torrc.splitlines())
    return ("TestingTorNetwork 1" in lines and "UseDefaultFallbackDirs 0" in lines
            and any(line.startswith(f"DirAuthority {first_authority} ") for line in lines))


def start_gencert(ns: str, ip: str, datadir: Path) -> subprocess.Popen[bytes]:
    """Start ``tor-gencert`` for the authority at ``ip`` (keys under ``datadir/keys``); it reads an empty
    passphrase from stdin: ``communicate(b"\\n")``. Started, not waited for, so the three run at once."""
    keys = datadir / "keys"
    keys.mkdir(mode=0o700)
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, "tor-gencert", "--create-identity-key", "-m", "12", "-a", f"{ip}:{DIRPORT}",
         "-i", str(keys / "authority_identity_key"), "-s", str(keys / "authority_signing_key"),
         "-c", str(keys / "authority_certificate"), "--passphrase-fd", "0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def dirauthority_line(ns: str, nick: str, ip: str, datadir: Path) -> str:
    """The ``DirAuthority`` line naming the authority whose keys ``start_gencert`` made in ``datadir``."""
    cert = (datadir / "keys" / "authority_certificate").read_text()
    v3ident = re.search(r"^fingerprint (\S+)", cert, re.M)
    dummy = "dummy orport=1 127.0.0.1:1 " + "F" * 40
    listed = run_command(["ip", "netns", "exec", ns, "tor", "--list-fingerprint", "--DataDirectory",
                          str(datadir), "--ORPort", str(ORPORT), "--Address", ip, "--TestingTorNetwork", "1",
                          "--UseDefaultFallbackDirs", "0", "--DirAuthority", dummy, "--Log", "err stderr"])
    fingerprint = "".join(listed.strip().splitlines()[-1].split()[1:])
    if v3ident is None or not re.fullmatch(r"[0-9A-F]{40}", fingerprint):
        raise NetnsError(f"could not read the keys of {nick}: {cert[:200]!r} / {listed!r}")
    return f"DirAuthority {nick} orport={ORPORT} no-v2 v3ident={v3ident.group(1)} {ip}:{DIRPORT} {fingerprint}"
