"""Widgets the screens share: the status line, list helpers, the QR code."""
