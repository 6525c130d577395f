"""Write the reference part of docs/control.md from the control API's definitions.

``python -m meshcare.control.doc`` rewrites what lies between the two markers in docs/control.md (the
hand-written part above them, transport, framing, rules and error kinds, stays as it is);
``python -m meshcare.control.doc --check`` exits 1 when the file is not what the definitions say.
tests/test_control_api.py runs the same check, so the doc cannot drift from the code: change a request,
result, view or event, then run this.

Everything here comes from the records: class docstrings say what an op, view or event is; each
field's ``Spec`` gives its type (``Shape.describe``), default and meaning; ``Request.ERRORS`` the
refusals.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from dataclasses import MISSING
from pathlib import Path
from typing import Any, Final

from .events import EVENTS, Event
from .names import BAD_REQUEST
from .requests import REQUESTS, Request
from .schema import Either, Map, Maybe, Record, Seq, Shape, View, record_fields, spec_of

BEGIN: Final = "<!-- BEGIN REFERENCE: written by `python -m meshcare.control.doc`; edit meshcare/control/, not this -->"
END: Final = "<!-- END REFERENCE -->"
DOC: Final = Path(__file__).resolve().parents[2] / "docs" / "control.md"

_GROUPS: Final = (("The node", ("status", "peers", "subscribe", "snapshot", "node.health")), ("Circles", ("circle.",)),
                  ("Calls for support", ("call.", "calls.")), ("Check-ins", ("checkin.",)),
                  ("Availability", ("presence.", "roster")), ("Support plan", ("plan.",)),
                  ("Gatherings", ("gathering.", "agreements.")),
                  ("Ladders and who not to involve", ("ladder.", "avoid.")),
                  ("Follow-up and responder care", ("followup.", "safety.", "me.")),
                  ("Private requests to facilitators", ("request.",)), ("The circle's library", ("library.",)),
                  ("Mutual-aid board", ("need.", "board.")),
                  ("Backups", ("backup.",)), ("Social recovery", ("recovery.",)), ("Mailboxes", ("mailbox.",)))


def _summary(cls: type[Any]) -> str:
    """The class docstring as one paragraph per blank-line-separated block."""
    text = inspect.getdoc(cls) or ""
    return "\n\n".join(" ".join(block.split()) for block in text.split("\n\n"))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(value: Any) -> str:
    if value is None:
        return "null"
    if value == ():
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value}`"


def _arguments(cls: type[Record]) -> list[str]:
    fields = record_fields(cls)
    if not fields:
        return ["Arguments: none."]
    lines = ["| argument | type | default | meaning |", "|---|---|---|---|"]
    for f in fields:
        spec = spec_of(f)
        default = "required" if f.default is MISSING else _default(f.default)
        lines.append(f"| `{f.name}` | {_cell(spec.shape.describe())} | {default} | {_cell(spec.doc)} |")
    return lines


def _keys(cls: type[Record]) -> list[str]:
    fields = record_fields(cls)
    if not fields:
        return ["`{}` (no keys)."]
    lines = ["| key | type | meaning |", "|---|---|---|"]
    for f in fields:
        spec = spec_of(f)
        note = " (only when set)" if spec.omit_none else ""
        lines.append(f"| `{f.name}` | {_cell(spec.shape.describe())} | {_cell(spec.doc)}{note} |")
    return lines


def _op(name: str, cls: type[Request[Any]]) -> list[str]:
    out = [f"### `{name}`", "", _summary(cls), "", f"Request `{cls.__name__}`.", "", *_arguments(cls), ""]
    out += [f"Result `{cls.RESULT.__name__}`: {_summary(cls.RESULT)}", "", *_keys(cls.RESULT), ""]
    if cls.ERRORS:
        out += ["Errors, besides `bad-request` for an argument that does not fit:", ""]
        out += [f"- `{kind}`: {when}" for kind, when in cls.ERRORS]
        out.append("")
    return out


def _nested(classes: Sequence[type[Record]]) -> list[type[Record]]:
    """Every record the fields of ``classes`` nest, at any depth, in order of first mention."""
    found: list[type[Record]] = []

    def walk(shape: Shape) -> None:
        if isinstance(shape, View):
            if shape.record not in found:
                found.append(shape.record)
                for f in record_fields(shape.record):
                    walk(spec_of(f).shape)
        elif isinstance(shape, Seq):
            walk(shape.item)
        elif isinstance(shape, Maybe):
            walk(shape.inner)
        elif isinstance(shape, Map):
            walk(shape.key)
            walk(shape.value)
        elif isinstance(shape, Either):
            for option in shape.options:
                walk(option)

    for cls in classes:
        for f in record_fields(cls):
            walk(spec_of(f).shape)
    return found


def _grouped() -> list[tuple[str, list[str]]]:
    left = list(REQUESTS)
    out = []
    for title, prefixes in _GROUPS:
        ops = [op for op in left if any(op == p or (p.endswith(".") and op.startswith(p)) for p in prefixes)]
        left = [op for op in left if op not in ops]
        out.append((title, ops))
    if left:
        out.append(("Other", left))
    return out


def _events() -> list[str]:
    out = ["## Events", "",
           "Sent only after `subscribe`, on that connection: `{\"t\": \"ev\", \"name\": NAME, \"data\": {...}}`. "
           "Events say what changed and show what a screen shows of it: `call.changed` and `checkin.changed` "
           "carry the call's or check-in's whole view (`view`, as `call.show` / `checkin.show` answer when the "
           "event is sent; null once it is gone), `member` the member's row of `circle.members`, `join` the "
           "circle it let this node into, and events name the circle and the member. Each event sets the "
           "state of the thing it names, so the last event about a thing is the latest word on it. The daemon "
           "numbers its events (`seq`: 1, 2, 3, ... from its start); a client that (re)connects subscribes, "
           "asks for a `snapshot`, and applies the events numbered after the snapshot's `seq`. A client "
           "ignores event names it does not know.", "",
           "`peer`, `envelope` and `circle` come once per link or envelope. The others come once per change, "
           "however it came (a post from the network, an op, a duty, an expiry) and however many envelopes "
           "carried it: the node compares what each circle shows before and after. Changes in one circle "
           "within a quarter of a second of each other come together, as one event per thing with its view "
           "as it is by then (a call made and claimed within it comes as `new`, already claimed). A circle this node is joining is "
           "quiet until `join` says `welcome`.", "",
           "| name | record | when |", "|---|---|---|"]
    out += [f"| [`{name}`](#event-{name.replace('.', '')}) | `{cls.__name__}` | "
            f"{_cell(_summary(cls).split(chr(10))[0])} |" for name, cls in EVENTS.items()]
    out.append("")
    for name, cls in EVENTS.items():
        out += [f"### Event `{name}`", "", _summary(cls), "", f"Data `{cls.__name__}`:", "", *_keys(cls), ""]
    return out


def reference() -> str:
    """The generated part of docs/control.md, markers excluded."""
    out = ["## Operations", "",
           "Each op below lists its arguments (the request record in `meshcare.control.requests`), its "
           "result (`meshcare.control.results`) and the refusals it may answer. An argument with a default "
           f"may be left out or sent as null. Every op answers `{BAD_REQUEST}` when an argument does not fit "
           f"(the message names it), and `failed` when the daemon could not do it.", ""]
    for title, ops in _grouped():
        out += [f"- {title}: " + ", ".join(f"[`{op}`](#{op.replace('.', '')})" for op in ops)]
    out.append("")
    for title, ops in _grouped():
        out += [f"## {title}", ""]
        for op in ops:
            out += _op(op, REQUESTS[op])
    out += ["## Argument records", "", "What arguments nest (`meshcare.control.requests`).", ""]
    for record in _nested(list(REQUESTS.values())):
        out += [f"### {record.__name__}", "", _summary(record), "", *_arguments(record), ""]
    out += ["## Views", "",
            "The objects results nest (`meshcare.control.views`). Ids are lowercase hex, times unix seconds.", ""]
    for view in _nested([cls.RESULT for cls in REQUESTS.values()]):
        out += [f"### {view.__name__}", "", _summary(view), "", *_keys(view), ""]
    out += _events()
    return "\n".join(out).rstrip("\n") + "\n"


def render(text: str) -> str:
    """``text`` (docs/control.md) with its reference part rewritten. Raises ValueError without markers."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"docs/control.md has lost its markers; put back\n{BEGIN}\n{END}")
    return text[:start + len(BEGIN)] + "\n\n" + reference() + "\n" + text[end:]


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite docs/control.md, or with ``--check`` say whether it is current (exit 1 if not)."""
    args = sys.argv[1:] if argv is None else list(argv)
    text = DOC.read_text(encoding="utf-8")
    wanted = render(text)
    if "--check" in args:
        if wanted != text:
            print("docs/control.md is out of date: run `python -m meshcare.control.doc`", file=sys.stderr)
            return 1
        return 0
    if wanted != text:
        DOC.write_text(wanted, encoding="utf-8")
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
