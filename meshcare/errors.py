"""The meshcare exception family.

Every error says whose fault it was, because that decides what the node does next:

* ``LocalProtocolError``: we tried to do something the protocol forbids. That is our bug; it propagates.
* ``RemoteProtocolError``: a peer sent something malformed or forbidden. Close that one link (or reject
  that one envelope), log it, keep running.
* ``LinkClosed`` (orderly end) vs ``LinkBroken`` (the connection failed under us).
* ``InvalidSignature`` / ``DecryptionFailed``: cryptographic checks failed. They are ``RemoteProtocolError``
  subclasses, because the bytes came from outside; callers that produced the bytes themselves treat them
  as local bugs.
* ``BadInput``: a person or a script gave us something unusable (CLI argument, config value, token).
* ``KeystoreError``: the identity on disk is missing, damaged, or locked with another passphrase.
* ``StoreError``: the on-disk store cannot be used (wrong schema, damaged file); ``DiskFull`` when the
  disk has no room left (the node keeps running and writes again once there is room).

Messages are written for the person who reads them: what went wrong and what they can do. They never
contain key material.
"""

from __future__ import annotations


class MeshcareError(Exception):
    """Base class of every error meshcare raises on purpose."""


class ProtocolError(MeshcareError):
    """The protocol was violated; see the two subclasses for whose fault it was."""


class LocalProtocolError(ProtocolError):
    """We tried to send or do something the protocol forbids (a bug in this node)."""


class RemoteProtocolError(ProtocolError):
    """A peer sent something malformed or forbidden; close that link or reject that item only."""


class FrameTooLarge(RemoteProtocolError):
    """A frame announced a size above the hard cap; the rest of that stream cannot be trusted."""


class UnsupportedVersion(RemoteProtocolError):
    """A frame, envelope or handshake carried a version this node does not speak."""


class InvalidSignature(RemoteProtocolError):
    """An Ed25519 signature did not verify: the data was forged, altered, or signed by someone else."""


class DecryptionFailed(RemoteProtocolError):
    """Authenticated decryption failed: wrong key, or the ciphertext or its header was altered."""


class LinkError(MeshcareError):
    """A link to a peer ended."""


class LinkClosed(LinkError):
    """The link was closed in an orderly way (by us or the peer)."""


class LinkBroken(LinkError):
    """The link failed under us (reset, timeout, truncated stream)."""


class BadInput(MeshcareError):
    """Input from a person or script (argument, config value, token) is unusable; the message says why."""


class ConfigError(BadInput):
    """config.toml or an environment setting is invalid."""


class KeystoreError(MeshcareError):
    """The node's identity file is missing, damaged, or cannot be unlocked."""


class WrongPassphrase(KeystoreError):
    """The passphrase does not unlock the keystore."""


class StoreError(MeshcareError):
    """The envelope store cannot be opened or used."""


class DiskFull(StoreError):
    """The disk holding the data dir has no room left (SQLite's SQLITE_FULL, ENOSPC or EDQUOT on a file).

    Not fatal: the daemon keeps running and reading, says so (log, ``status``), and writes again by itself
    once there is room. ``directory`` is where space must be freed.
    """

    def __init__(self, message: str, directory: str) -> None:
        super().__init__(message)
        self.directory = directory


class NotFound(BadInput):
    """A request names something (a peer, a circle, a call) that does not exist on this node."""


class UnknownOp(BadInput):
    """A control request names an operation this daemon does not have (often: the daemon is older)."""


class StartupError(MeshcareError):
    """The daemon cannot start here: its port, its data directory, or something it needs from the
    machine is not usable; the message says what is in the way and what to do."""


class AlreadyRunning(MeshcareError):
    """Another daemon holds this data directory (its lock file)."""


class LaunchError(MeshcareError):
    """A daemon in the background could not be started (its log's last line says why) or stopped."""


class DaemonUnavailable(MeshcareError):
    """The local daemon cannot be reached, or the connection to it failed in the middle of a request."""


class DaemonNotRunning(DaemonUnavailable):
    """No daemon listens on the control socket of this data directory."""


class RequestFailed(MeshcareError):
    """The daemon answered a control request with an error; ``kind`` says which (docs/control.md)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class DiscoveryUnavailable(MeshcareError):
    """mDNS discovery could not start here (no usable interface, no multicast, socket error).

    Not fatal: the daemon keeps its links and static peers, logs this, and tries discovery again later.
    """


class ServiceError(MeshcareError):
    """Installing, removing or asking about the system service failed on this machine (a command such as
    useradd, pip or systemctl refused); the message names the command and its own words."""


class ProbeFailed(MeshcareError):
    """A `meshcare doctor` probe could not ask the system (systemctl missing, silent or failing)."""


class BackupError(BadInput):
    """A backup file cannot be opened: not a meshcare backup, cut short, damaged or altered, or written in
    a format version this meshcare does not read. Nothing was restored."""


class WrongBackupPassphrase(BackupError):
    """The passphrase (or recovery key) given does not open the backup file."""


class TorError(MeshcareError):
    """Something between meshcare and the local tor failed; the message says what and what to do."""


class TorControlError(TorError):
    """tor's control port cannot be used: not reachable, authentication refused or impossible (a password
    only), a command refused, no answer in time, or the connection dropped (tor stopped or restarted)."""


class TorDialError(TorError):
    """A connection through tor's SOCKS port failed. ``code`` is the SOCKS5 reply code (tor's extended ones
    0xF0-0xF7 included) when tor gave one, None when the failure came before or without one (tor not
    reachable, no answer in time, a broken answer)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code
