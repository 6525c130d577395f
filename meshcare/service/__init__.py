"""Running meshcare as a systemd service on a Raspberry Pi (or any Debian-like machine).

``units``: the unit files as text (pure). ``plan``: what ``meshcare service install|uninstall`` would do, as
a list of actions decided from facts about the machine (pure). ``actions``: carrying those actions out.
``status``: what systemd and the daemon say. ``sd_notify``: the daemon's side of ``Type=notify``
(READY, STATUS, WATCHDOG, STOPPING). docs/raspberry-pi.md is the person's guide to all of it.
"""
