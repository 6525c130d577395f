"""Requests of the backup ops (``backup.*``).

``backup.bundle`` hands the client everything a backup holds, unencrypted: the daemon holds the
unlocked keys, and the client (``meshcare backup export``, on the same machine, as the same user: the
control socket is 0600) asks for the passphrase and encrypts the file itself, so the passphrase never
reaches the daemon and the slow Argon2id run never stalls the node's loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import names as n
from . import results_backup as r
from .request_base import Request

__all__ = ["BackupBundle", "REQUESTS_BACKUP"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupBundle(Request[r.BackupBundleResult]):
    """What a backup of this node holds (identity, circle secrets and keys, own plan, lists), as the
    bundle's bytes in base64, for the client to encrypt. Secret: only the node's owner can ask (the
    control socket is theirs alone)."""

    OP = n.OP_BACKUP_BUNDLE


REQUESTS_BACKUP = (BackupBundle,)
