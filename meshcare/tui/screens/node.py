"""Node status: the neighbours this computer is linked to (and how: via LAN or via Tor), catching up or caught
up per circle, Tor, and the daemon's counters. Asked once when opened and again with ``g`` (nothing polls)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...control import api
from ...control import reachability as reach
from .. import format as fmt
from ..commands import Command
from .base import MeshScreen


class NodeScreen(MeshScreen):
    """Links, sync per circle, statistics."""

    PURPOSE = ("Node status: which neighbours this computer is linked to, whether each circle is caught up, "
               "and the daemon's counters (g asks again).")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("g", "reload", "Ask again", id="reload")]

    def __init__(self) -> None:
        super().__init__()
        self.status: api.StatusResult | None = None

    def body(self) -> ComposeResult:
        with VerticalScroll(id="node"):
            yield Static("", id="links")
            yield Static("", id="circles-sync")
            yield Static("Asking the daemon...", id="stats")

    def on_mount(self) -> None:
        super().on_mount()
        self.action_reload()

    def action_reload(self) -> None:
        def got(result: api.StatusResult) -> None:
            self.status = result
            self.refresh_view()
        self.mc.act(api.Status(), got)

    def refresh_view(self) -> None:
        model, g = self.mc.model, self.mc.glyphs
        names = model.names()
        daemon = fmt.DAEMON_WORDS.get(self.mc.daemon_state, self.mc.daemon_state)
        lost = self.mc.daemon_state != "connected" and self.mc.lost_reason
        why = f" ({fmt.safe(self.mc.lost_reason)})" if lost else ""
        ways = model.link_ways()
        neighbours = fmt.link_words(model.linked()) if ways is None else reach.reach_words(*ways)
        lines = [f"[b]Daemon[/b]: {daemon}{why}", f"[b]Neighbours[/b]: {neighbours}"]
        for peer in sorted(model.peers.values(), key=lambda p: (not p.linked, p.address)):
            who = fmt.safe(peer.name) if peer.name else (fmt.name_of(peer.node_id, names) if peer.node_id else "")
            how = "" if ways is None else " via Tor (slow)" if reach.peer_via(peer) == reach.ONION else " via LAN"
            state = f"{g.online} linked{how}" if peer.linked else f"{g.offline} not linked"
            lines.append(f"  {state} {g.sep} {fmt.safe(peer.address)}" + (f" {g.sep} {who}" if who else "")
                         + (f" (from {fmt.safe(peer.source)})" if peer.source and not peer.linked else ""))
        if not model.peers:
            lines.append("  none known yet: neighbours on this network are found by themselves, others are added "
                         "with --peer HOST:PORT")
        self.query_one("#links", Static).update("\n".join(lines))
        sync = ["", "[b]Circles[/b]"]
        for circle in model.circles_in_order():
            words = "catching up" if circle.sync == "catching_up" else "caught up"
            sync.append(f"  {fmt.safe(circle.circle.name)}: {words}")
        if len(sync) == 2:
            sync.append("  none yet")
        self.query_one("#circles-sync", Static).update("\n".join(sync))
        if self.status is None:
            return
        s = self.status
        tor_used = s.tor is not None or bool(s.links_onion)
        links = f"{s.links} links"
        if tor_used and s.links_direct is not None and s.links_onion is not None:
            links += f" ({s.links_direct} direct, {s.links_onion} via Tor)"
        stats = ["", "[b]This node[/b]",
                 f"  {fmt.safe(s.name)} {g.sep} id {fmt.short_id(s.node_id)} {g.sep} listening on {fmt.safe(s.listen)}",
                 f"  up for {fmt.span(s.uptime_s)} {g.sep} {links} {g.sep} {s.envelopes} envelopes stored"]
        if tor_used:
            stats.append(f"  {fmt.safe(reach.tor_line(s.tor))}")
        if s.wire_bytes_in is not None or s.wire_bytes_out is not None:
            stats.append(f"  received {s.wire_bytes_in or 0} bytes {g.sep} sent {s.wire_bytes_out or 0} bytes")
        if s.statistics:
            stats.append("")
            stats.append("[b]Counters[/b]")
            for key in sorted(s.statistics):
                value = s.statistics[key]
                if isinstance(value, (int, float, str, bool)):
                    stats.append(f"  {fmt.safe(key)}: {fmt.safe(str(value))}")
        self.query_one("#stats", Static).update("\n".join(stats))

    def palette_commands(self) -> list[Command]:
        return [Command("status: ask the daemon again", "Links, counters", self.action_reload)]
