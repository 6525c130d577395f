"""Deterministic N-node simulator over the pure core, in virtual time (``meshcare sim``).

``topology`` (who reaches whom), ``network`` (virtual clock, TCP-like links), ``world`` (carries out the
engines' or nodes' effects), ``metrics`` (what was measured), ``runner`` (builds and runs one
simulation), ``cli`` (the subcommand). The gossip scenario runs bare sync engines: ``scenario`` (what
happens when) and ``circle`` (a stand-in circle: keys, sealing, verifier). The circle scenario runs real
nodes: ``members`` (identities and ``Node``s from the seed), ``circle_run`` (founding, joining, calls,
claims, a check-in, a removal, through the control ops) and ``circle_track`` (what it measured).
"""
