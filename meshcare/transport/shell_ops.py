"""The ops only the daemon's shell can answer: what it is doing (``status``), its links (``peers``), the
snapshot with its peers and event number (``snapshot``), ``node.rename``, which also rewrites the
keystore, and the mailbox ops that show how a link runs (``mailbox.set``/``status``: direct or onion). They read the daemon's state and never change the node's except through ``ops/rename.py``; kept
apart from daemon.py so that file holds the event loop and the effects alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..control import requests as rq
from ..control import requests_mailbox as rqm
from ..control import results_mailbox as rsm
from ..control import results as rs
from ..control import views as cv
from ..control.names import (OP_MAILBOX_SET, OP_MAILBOX_STATUS, OP_NODE_HEALTH, OP_NODE_RENAME, OP_PEERS, OP_SNAPSHOT,
                             OP_STATUS)
from ..crypto.keys import check_name
from ..ids import NodeId
from ..node import Node
from ..node_events import Effect
from ..ops import Op, Operation
from ..ops.mailbox import mailbox_views, set_mailbox
from ..ops.rename import node_rename, rename_circles
from ..ops.snapshot import snapshot
from . import links
from .health import health_op

if TYPE_CHECKING:
    from .daemon import Daemon


def shell_ops(daemon: Daemon) -> dict[str, Operation]:
    """The op table entries of ``daemon``'s own ops."""
    ops = ShellOps(daemon)
    return {OP_STATUS: Op(rq.Status, ops.status), OP_PEERS: Op(rq.Peers, ops.peers),
            OP_SNAPSHOT: Op(rq.Snapshot, ops.snapshot), OP_NODE_RENAME: Op(rq.Rename, ops.rename),
            OP_NODE_HEALTH: Op(rq.NodeHealth, health_op(daemon)),
            OP_MAILBOX_SET: Op(rqm.MailboxSet, ops.mailbox_set),
            OP_MAILBOX_STATUS: Op(rqm.MailboxStatus, ops.mailbox_status)}


class ShellOps:
    """Each method is an ``Operation`` handler: (node, request, now) -> (result, effects)."""

    def __init__(self, daemon: Daemon) -> None:
        self.d = daemon

    def status(self, node: Node, req: rq.Status, now: float) -> tuple[rs.StatusResult, list[Effect]]:
        return rs.StatusResult(
            node_id=self.d.identity.node_id.hex(), name=node.identity.name, listen=f"{self.d.listen[0]}:{self.d.port}",
            uptime_s=round(now - self.d.started, 3), links=len(self.d.links), envelopes=len(self.d.store),
            topics=len(node.plain_topics),
            statistics={**node.statistics(), **self.d.admission.statistics(), "internal_errors": self.d.faults.count,
                        **(self.d.notifier.statistics() if self.d.notifier is not None else {})},
            wire_bytes_in=self.d.wire_closed[0] + sum(link.channel.wire_in for link in self.d.links.values()),
            wire_bytes_out=self.d.wire_closed[1] + sum(link.channel.wire_out for link in self.d.links.values()),
            profile=self.d.profile,
            disk_full=self.d.disk_full, tor=self.d.tor_status(),
            links_direct=sum(1 for link in self.d.links.values() if link.via != "onion"),
            links_onion=sum(1 for link in self.d.links.values() if link.via == "onion")), []

    def rename(self, node: Node, req: rq.Rename, now: float) -> tuple[rs.RenameResult, list[Effect]]:
        """``node.rename``: refusals first, then the keystore (a name not kept is told to nobody), then the
        circles (``ops/rename.py``)."""
        name = check_name(req.name)
        rename_circles(node, name)
        if self.d.keep_name is not None and name != node.identity.name:
            self.d.keep_name(name)
        return node_rename(node, req, now)

    def peers(self, node: Node, req: rq.Peers, now: float) -> tuple[rs.PeersResult, list[Effect]]:
        return rs.PeersResult(peers=self.peer_views(node)), []

    def snapshot(self, node: Node, req: rq.Snapshot, now: float) -> tuple[rs.SnapshotResult, list[Effect]]:
        """The node's part (``ops.snapshot``) with this shell's peers and the number of its last event:
        events published after this answer are numbered higher (no effects, nothing in between)."""
        return snapshot(node, req, now, peers=self.peer_views(node), seq=self.d.event_seq), []

    def mailbox_set(self, node: Node, req: rqm.MailboxSet, now: float) -> tuple[rsm.MailboxSetResult, list[Effect]]:
        return set_mailbox(node, req, now, self.via)

    def mailbox_status(self, node: Node, req: rqm.MailboxStatus,
                       now: float) -> tuple[rsm.MailboxStatusResult, list[Effect]]:
        return mailbox_views(node, self.via), []

    def via(self, node_id: bytes) -> str | None:
        """How the link to ``node_id`` runs: "direct", or "onion" over Tor (``Link.via``; a daemon without
        the onion transport has direct links only)."""
        link = self.d.links.get(NodeId(node_id))
        return None if link is None else str(getattr(link, "via", "direct"))

    def peer_views(self, node: Node) -> tuple[cv.Peer, ...]:
        """Linked peers first, then addresses known but not linked."""
        peers = [cv.Peer(node_id=link.node_id.hex(), address=links.show(link.address), linked=True,
                         initiator=link.initiator, since=round(link.opened, 3),
                         topics=len(node.engine.shared_topics(key)), via=link.via)
                 for key, link in self.d.links.items()]
        linked = {link.address for link in self.d.links.values()}
        for key, source in node.known.items():
            address = links.as_address(key)
            if address is not None and address not in linked:
                peers.append(cv.Peer(node_id=None, address=links.show(address), linked=False, source=str(source)))
        return tuple(peers)

