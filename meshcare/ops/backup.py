"""The backup op: the bundle of this node, for the client to encrypt. Pure.

The daemon is where the identity is unlocked, so a backup of a running node is taken from it: the
identity, the local state (circle secrets, counters, plan, lists) and the circles' names from their
rosters. The client adds the person's own settings files and seals the file (``meshcare backup export``).
"""

from __future__ import annotations

import base64

from ..backup.bundle import Bundle
from ..control import requests_backup as rq
from ..control import results_backup as rs
from ..node import Node
from ..node_events import Effect


def backup_bundle(node: Node, req: rq.BackupBundle, now: float) -> tuple[rs.BackupBundleResult, list[Effect]]:
    """The bundle of this node as it is now. Raises BadInput when it is larger than a backup holds."""
    names = {bytes(topic): circle.roster.name for topic, circle in node.registry.circles.items()}
    bundle = Bundle.from_state(node.identity, node.state, int(now), names)
    return rs.BackupBundleResult(bundle=base64.b64encode(bundle.to_bytes()).decode("ascii"), name=bundle.name,
                                 node_id=bytes(node.identity.node_id).hex(),
                                 circles=tuple(c.name or c.topic.hex()[:16] for c in bundle.circles),
                                 created=bundle.created), []
