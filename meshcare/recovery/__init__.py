"""Social recovery: a recovery key split among chosen circle members (SLIP-0039 Shamir shares), each
share sealed to its holder, released to a new device the owner checks in person. Pure.

``shamir`` wraps Trezor's reference SLIP-0039 implementation; ``records`` holds the signed setup record,
what a holder keeps, the REQUEST code and its fingerprint; ``lobby`` is the topic a new device collects
releases in; ``collect`` is the fold that judges releases and opens the recovery key once k agree.
The trio shell and the CLI do the I/O; docs/backup-and-recovery.md tells the story.
"""
