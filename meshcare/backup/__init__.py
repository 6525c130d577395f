"""Backups: what one holds (bundle.py), the encrypted file (fileformat.py), and restoring one (datadir.py)."""
