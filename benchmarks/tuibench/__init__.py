"""bench_tui's parts: the terminal (tmux), the daemons and the event stamps, /proc, the figures."""
