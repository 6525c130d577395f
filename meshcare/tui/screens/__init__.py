"""The full screens (home, a call, a new call, check-ins, a circle, the plan, node status, settings),
the help screen and the small dialogs."""
