"""meshcare: peer-to-peer mesh messaging for community support circles.

Layout and dependency direction: docs/architecture.md.
"""

__version__ = "0.1.0"
