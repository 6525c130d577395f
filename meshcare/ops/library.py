"""The circle's library ops: list, show, edit (write or change), remove, add starter texts. Pure.

Only facilitators write; every member reads. The rule lives in the circles layer (sealing.py judges
library posts by the epoch's facilitators, library.py folds them); these ops check it first to say so in
plain words. A text is named by its title in its circle, or by the start of its id.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from ..circles import library as lb
from ..circles.circle import Circle
from ..control import requests_requests as rq
from ..control import results_requests as rs
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect
from ..vocab import MIN_ID_PREFIX
from .common import linked, post, validated


def note_from(note: lb.NoteState, names: Mapping[bytes, str], *, circle: Circle, can_edit: bool) -> rs.LibraryNote:
    """The view of one library text."""
    authors = sorted({v.author for v in note.versions})
    return rs.LibraryNote(
        id=note.id.hex(), circle=circle.topic.hex(), circle_name=circle.roster.name, title=note.title,
        text=note.text, author=note.author.hex(), created=note.created, edits=note.edits,
        versions=tuple(rs.LibraryVersion(id=v.id.hex(), author=v.author.hex(), title=v.title, text=v.text,
                                         created=v.created) for v in note.versions),
        can_edit=can_edit, names={m.hex(): names[m] for m in authors if m in names})


def _can_edit(node: Node, circle: Circle) -> bool:
    return circle.roster.role(node.registry.me) == "facilitator"


def _view(node: Node, circle: Circle, note: lb.NoteState) -> rs.LibraryNote:
    return note_from(note, node.registry.names(), circle=circle, can_edit=_can_edit(node, circle))


def _facilitator(node: Node, circle: Circle) -> None:
    if not _can_edit(node, circle):
        raise BadInput(f"only facilitators of {circle.roster.name!r} write its library; you can read it "
                       f"with `meshcare library {shlex.quote(circle.roster.name)}`")


def find_note(node: Node, circle: Circle, ref: str) -> lb.NoteState:
    """A text of ``circle``'s library by its title, or the start of its id."""
    notes: Mapping[bytes, lb.NoteState] = node.registry.view(circle).library
    titled = lb.by_title(notes.values(), ref)
    if len(titled) == 1:
        return titled[0]
    if len(titled) > 1:
        raise BadInput(f"several texts are called {ref!r}; name one by the start of its id "
                       f"({', '.join(n.id.hex()[:8] for n in titled)})")
    key = ref.strip().lower()
    found = [n for nid, n in notes.items() if len(key) >= MIN_ID_PREFIX and nid.hex().startswith(key)]
    if len(found) == 1:
        return found[0]
    if found:
        raise BadInput(f"{ref!r} matches several texts; use more of the id")
    raise NotFound(f"no text called {ref!r} in the library of {circle.roster.name!r}; "
                   f"`meshcare library {shlex.quote(circle.roster.name)}` lists them")


def _missing_starters(node: Node, circle: Circle) -> list[str]:
    notes = node.registry.view(circle).library.values()
    return [title for title in lb.STARTERS if not lb.by_title(notes, title)]


def library_list(node: Node, req: rq.LibraryList, now: float) -> tuple[rs.LibraryListResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    notes = sorted(node.registry.view(circle).library.values(), key=lambda n: (n.title.casefold(), n.id))
    return rs.LibraryListResult(circle=circle.topic.hex(), circle_name=circle.roster.name,
                                notes=tuple(_view(node, circle, n) for n in notes),
                                can_edit=_can_edit(node, circle), starters=tuple(_missing_starters(node, circle))), []


def library_show(node: Node, req: rq.LibraryShow, now: float) -> tuple[rs.LibraryShowResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    return rs.LibraryShowResult(note=_view(node, circle, find_note(node, circle, req.note))), []


def library_edit(node: Node, req: rq.LibraryEdit, now: float) -> tuple[rs.LibraryEditResult, list[Effect]]:
    """Change the text named by ``note`` (by id) or by ``title``; no such text: write a new one."""
    circle = node.registry.find(req.circle)
    _facilitator(node, circle)
    if req.note:
        was: lb.NoteState | None = find_note(node, circle, req.note)
    else:
        titled = lb.by_title(node.registry.view(circle).library.values(), req.title)
        if len(titled) > 1:
            raise BadInput(f"several texts are called {req.title!r}; name the one to change by its id")
        was = titled[0] if titled else None
    # named by its title: the title stays as it was written (a different case or spacing is the same text)
    title = was.title if was is not None and not req.note else req.title.strip()
    if was is not None and (was.title, was.text) == (title, req.text):
        return rs.LibraryEditResult(note=_view(node, circle, was), new=False, changed=False,
                                    linked=linked(node, circle)), []
    body = validated("library_note", {"title": title, "text": req.text, "revises": None if was is None else was.id})
    e, effects = post(node, circle, "library_note", body, now)
    note = node.registry.view(circle).library[e.id if was is None else was.id]
    return rs.LibraryEditResult(note=_view(node, circle, note), new=was is None, changed=True,
                                linked=linked(node, circle)), effects


def library_remove(node: Node, req: rq.LibraryRemove, now: float) -> tuple[rs.LibraryRemoveResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    _facilitator(node, circle)
    note = find_note(node, circle, req.note)
    _, effects = post(node, circle, "library_remove", validated("library_remove", {"note": note.id}), now)
    return rs.LibraryRemoveResult(removed=note.id.hex(), title=note.title, linked=linked(node, circle)), effects


def library_starters(node: Node, req: rq.LibraryStarters,
                     now: float) -> tuple[rs.LibraryStartersResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    _facilitator(node, circle)
    known = {t.casefold(): t for t in lb.STARTERS}
    wanted = []
    for title in req.titles:
        if title.strip().casefold() not in known:
            raise BadInput(f"no starter text called {title!r}; there are: {'; '.join(lb.STARTERS)}")
        wanted.append(known[title.strip().casefold()])
    missing = _missing_starters(node, circle)
    add = [t for t in missing if not wanted or t in wanted]
    effects: list[Effect] = []
    for title in add:
        body = validated("library_note", {"title": title, "text": lb.STARTERS[title], "revises": None})
        effects += post(node, circle, "library_note", body, now)[1]
    return rs.LibraryStartersResult(added=tuple(add), notes=len(node.registry.view(circle).library),
                                    linked=linked(node, circle)), effects
