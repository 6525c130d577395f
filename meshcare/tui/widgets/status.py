"""The status line every screen shows at its top: who this is, links (and how: via LAN, via Tor), sync, the
daemon connection."""

from __future__ import annotations

from textual.widgets import Static

from .. import format as fmt
from ..model import Model


class StatusLine(Static):
    """One line, in words (``format.status_line``); its classes (``-reconnecting``, ``-not-linked``,
    ``-via-tor``: linked only through Tor, which is slow) let the theme add colour to what the words
    already say."""

    DEFAULT_CSS = """
    StatusLine { height: 1; width: 100%; background: $panel; color: $foreground; padding: 0 1; }
    StatusLine.-reconnecting { background: $warning 30%; }
    StatusLine.-not-linked { color: $text-muted; }
    StatusLine.-via-tor { color: $text-warning; }
    """

    def show(self, model: Model, daemon: str, label: str, glyphs: fmt.Glyphs) -> None:
        """Rewrite the line from the model and the daemon connection's state."""
        linked = model.linked()
        ways = model.link_ways()
        words = fmt.escape(fmt.status_line(linked, model.sync_states(), daemon, glyphs, ways))
        who = fmt.safe(model.name or label, 30)
        self.update(f"[b]{who}[/b] {glyphs.sep} {words}" if who else words)
        self.set_class(daemon != "connected", "-reconnecting")
        self.set_class(linked == 0, "-not-linked")
        self.set_class(ways is not None and ways[1] > 0 and ways[0] == 0, "-via-tor")
