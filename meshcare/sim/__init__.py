"""Deterministic N-node simulator over the pure sync engine, in virtual time (``meshcare sim``).

``topology`` (who reaches whom), ``network`` (virtual clock, TCP-like links), ``scenario`` (what happens
when), ``circle`` (keys, sealing, verifier), ``world`` (carries out the engines' effects), ``metrics``
(what was measured), ``runner`` (builds and runs one simulation), ``cli`` (the subcommand).
"""
