"""What a check finds: its level, what is wrong in words, and exactly how to fix it. Pure.

A ``Finding`` is one line of `meshcare doctor`. Levels, from good to bad: ``ok`` (checked, fine), ``info``
(nothing to check here, or not a fault: "not managed by systemd"), ``warning`` (works, but something is
likely to go wrong or already degrades the node), ``problem`` (something is wrong now: calls may not reach
the person), ``error`` (the check itself could not run or did not finish: doctor cannot vouch for it).
`meshcare doctor` exits 1 when any finding is a problem or an error, else 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final


class Level(str, Enum):
    """How bad a finding is (the ``level`` key of ``meshcare doctor --json``)."""

    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    PROBLEM = "problem"
    ERROR = "error"


#: Levels that make `meshcare doctor` exit 1.
FAILING: Final = frozenset({Level.PROBLEM, Level.ERROR})


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a check found. ``fix`` is what to run or do, exactly ("" when nothing needs doing)."""

    check: str
    level: Level
    what: str
    fix: str = ""

    def to_data(self) -> dict[str, Any]:
        """The finding as ``meshcare doctor --json`` prints it."""
        return {"check": self.check, "level": self.level.value, "what": self.what, "fix": self.fix}

    def line(self) -> str:
        """The finding as one line for people: level, check, what, and how to fix it."""
        text = f"{self.level.value:<8} {self.check}: {self.what}"
        return f"{text} Fix: {self.fix}" if self.fix else text


def ok(check: str, what: str) -> Finding:
    return Finding(check, Level.OK, what)


def info(check: str, what: str, fix: str = "") -> Finding:
    return Finding(check, Level.INFO, what, fix)


def warning(check: str, what: str, fix: str) -> Finding:
    return Finding(check, Level.WARNING, what, fix)


def problem(check: str, what: str, fix: str) -> Finding:
    return Finding(check, Level.PROBLEM, what, fix)


def failed(findings: Iterable[Finding]) -> bool:
    """True when any finding is a problem or an error (`meshcare doctor` then exits 1)."""
    return any(f.level in FAILING for f in findings)


def summary(findings: Sequence[Finding]) -> dict[str, Any]:
    """The JSON object of ``meshcare doctor --json``: counts and every finding, in the order they ran."""
    count = {level: sum(1 for f in findings if f.level is level) for level in Level}
    return {"ok": not failed(findings), "problems": count[Level.PROBLEM], "warnings": count[Level.WARNING],
            "errors": count[Level.ERROR], "findings": [f.to_data() for f in findings]}
