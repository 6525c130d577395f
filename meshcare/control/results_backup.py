"""What the backup ops answer (``results.py`` lists them in ``RESULTS``).

Apart from ``results.py`` so the backup's records live together; it derives from ``result_base`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from . import names as n
from .result_base import Result
from .schema import Hex, Seq, Text, Time, key

__all__ = ["BackupBundleResult", "MAX_BUNDLE_TEXT", "RESULTS_BACKUP"]

#: base64 of the largest bundle (``meshcare.backup.bundle.MAX_BUNDLE``, 640 KiB): it fits one control message.
MAX_BUNDLE_TEXT: Final = 4 * (640 * 1024 + 2) // 3


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupBundleResult(Result):
    """The bundle, and what it holds in words."""

    OP: ClassVar[str] = n.OP_BACKUP_BUNDLE
    bundle: str = key(Text(1, MAX_BUNDLE_TEXT), "the bundle's bytes (meshcare/backup/bundle.py), base64: SECRET, "
                      "encrypt before it touches a disk")
    name: str = key(Text(), "this person's name")
    node_id: str = key(Hex(32), "this node's id")
    circles: tuple[str, ...] = key(Seq(Text()), "the circles it holds, by name")
    created: int = key(Time(), "when the bundle was made")


RESULTS_BACKUP = (BackupBundleResult,)
