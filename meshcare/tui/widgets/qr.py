"""An invite token as a QR code drawn with half blocks, for a phone held up to the screen in person.

segno (a pure-Python QR encoder, already a dependency for this) makes the matrix; two rows of modules
become one line of text (``▀``, ``▄``, ``█``, space), which every terminal font has, the Linux console's
included. The widget draws dark on light whatever the theme, because not every scanner reads an
inverted code.

Why error correction "l" and a border of one module: the code is held up to a phone on a screen, not
printed on a wall where it gets dirty, so the lowest level is enough, and it keeps the code small: a
200-character invite is 24 lines (at "m" with the standard border it was 27, never whole at 80x24).
The quiet zone the standard asks for (4 modules) comes from the light background around the code
(``QRScreen`` paints the whole screen light), which scanners accept.
"""

from __future__ import annotations

from typing import Final

import segno
from textual.widgets import Static

_HALF: Final = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def qr_lines(text: str, border: int = 1) -> list[str]:
    """The QR code of ``text`` as lines of half blocks (a block is a dark module), ``border`` light
    modules around it."""
    qr = segno.make(text, error="l")  # segno raises it for free when the size stays the same
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
