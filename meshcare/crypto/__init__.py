"""Pure cryptographic functions over PyNaCl and hashlib.

Only this package touches ``nacl`` and ``nacl.exceptions``; everything else sees meshcare's own errors.
"""
