"""``meshcare demo``: a whole support circle on this computer, with nothing to set up and nothing on the network.

Three nodes run on loopback in a temporary directory (``nodes``): Bo, a facilitator, and Chloe are
scripted neighbours (``script``: they answer calls and check-ins, and post one of each of their own,
using only the control API), and the person is the third member, in the terminal UI or, with
``--no-tui``, reading what happens as lines (``narrate``). ``cli`` runs it and removes everything on
the way out: on exit, on Ctrl-C, on SIGTERM or SIGHUP, and when the demo itself fails.
"""
