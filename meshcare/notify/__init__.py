"""Notifications without the TUI: what the daemon tells a household's own program (``notify_command``).

Pure: ``settings`` reads the config.toml keys (the command, how much a notification shows, quiet hours);
``rules`` decides which control events are worth telling a person, words the summary, keeps quiet hours
and bounds a burst. Running the command is the trio shell's (``transport/notifier.py``).
"""
