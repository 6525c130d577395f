"""The UI's themes: a calm default, a light one, a high-contrast one and a colour-blind-safe one.

Every theme defines the same variables (``$call-open``, ``$call-claimed``, ``$call-resolved``,
``$urgent``), so a call needing someone looks alike wherever it is shown. Colour only ever repeats what a
word already says (``format.py``): a person who cannot tell the colours apart, or a monochrome console,
loses nothing. The colour-blind-safe palette is Okabe and Ito's (2008), distinguishable in the common
forms of colour blindness; the high-contrast theme keeps to black, white and yellow.
"""

from __future__ import annotations

from typing import Final

from textual.theme import Theme

MESHCARE: Final = Theme(
    name="meshcare", primary="#5b8fb9", secondary="#7aa37a", accent="#d9a441", warning="#d9a441",
    error="#c8553d", success="#7aa37a", foreground="#e6e1d6", background="#1d1f21", surface="#26292c",
    panel="#2f3337", dark=True,
    variables={"call-open": "#d9a441", "call-claimed": "#5b8fb9", "call-resolved": "#8a8a8a", "urgent": "#e07a5f",
               "footer-key-foreground": "#d9a441"})

MESHCARE_LIGHT: Final = Theme(
    name="meshcare-light", primary="#2f5d85", secondary="#3f6f3f", accent="#8a5a00", warning="#8a5a00",
    error="#a33a22", success="#3f6f3f", foreground="#1d1f21", background="#f6f3ec", surface="#ebe6dc",
    panel="#e0dace", dark=False,
    variables={"call-open": "#8a5a00", "call-claimed": "#2f5d85", "call-resolved": "#5f5f5f", "urgent": "#a33a22"})

HIGH_CONTRAST: Final = Theme(
    name="high-contrast", primary="#ffff00", secondary="#ffffff", accent="#ffff00", warning="#ffff00",
    error="#ffffff", success="#ffffff", foreground="#ffffff", background="#000000", surface="#000000",
    panel="#000000", boost="#333333", dark=True, luminosity_spread=0.0, text_alpha=1.0,
    variables={"call-open": "#ffff00", "call-claimed": "#ffffff", "call-resolved": "#c0c0c0", "urgent": "#ffff00",
               "block-cursor-foreground": "#000000", "block-cursor-background": "#ffff00",
               "footer-key-foreground": "#ffff00"})

#: Okabe-Ito: orange, sky blue, bluish green, yellow, blue, vermillion, reddish purple.
COLOUR_BLIND_SAFE: Final = Theme(
    name="colour-blind-safe", primary="#0072b2", secondary="#009e73", accent="#e69f00", warning="#e69f00",
    error="#d55e00", success="#009e73", foreground="#f0f0f0", background="#1a1a1a", surface="#242424",
    panel="#2e2e2e", dark=True,
    variables={"call-open": "#e69f00", "call-claimed": "#56b4e9", "call-resolved": "#999999", "urgent": "#d55e00",
               "footer-key-foreground": "#e69f00"})

THEMES: Final = (MESHCARE, MESHCARE_LIGHT, HIGH_CONTRAST, COLOUR_BLIND_SAFE)
