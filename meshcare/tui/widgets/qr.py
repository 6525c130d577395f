"""An invite token as a QR code drawn with half blocks, for a phone held up to the screen in person.

segno (a pure-Python QR encoder, already a dependency for this) makes the matrix; two rows of modules
become one line of text (``▀``, ``▄``, ``█``, space), which every terminal font has, the Linux console's
included. The widget draws dark on light whatever the theme, because not every scanner reads an
inverted code.
"""

from __future__ import annotations

from typing import Final

import segno
from textual.widgets import Static

_HALF: Final = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def qr_lines(text: str, border: int = 2) -> list[str]:
    """The QR code of ``text`` as lines of half blocks (a block is a dark module)."""
    qr = segno.make(text, error="m")
    rows = [[bool(v) for v in row] for row in qr.matrix_iter(scale=1, border=border)]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    return ["".join(_HALF[(top, bottom)] for top, bottom in zip(rows[i], rows[i + 1], strict=True))
            for i in range(0, len(rows), 2)]


class QRCode(Static):
    """A QR code of an invite token."""

    DEFAULT_CSS = """
    QRCode { width: auto; height: auto; background: #ffffff; color: #000000; }
    """

    def __init__(self, text: str, *, id: str | None = None) -> None:
        super().__init__("\n".join(qr_lines(text)), markup=False, id=id)
