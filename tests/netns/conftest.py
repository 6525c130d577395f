"""Registers the ``netns`` marker: select these tests with ``-m netns``, leave them out with ``-m 'not netns'``."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "netns: runs real processes in Linux network namespaces (needs root, iproute2, nftables)")
