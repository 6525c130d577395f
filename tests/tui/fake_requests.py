"""The fake daemon's private requests and library (``request.*``, ``library.*``): typed records built
here, changed by the ops as the real daemon does, each change told with a ``care.changed`` event (the app
re-reads the list op). ``FakeDaemon`` adds these ops to its table; tests seed ``daemon.care``."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from meshcare.control import api
from meshcare.control import results_requests as rr
from meshcare.control.requests_requests import (LibraryEdit, LibraryList, LibraryRemove, LibraryShow,
                                                LibraryStarters, RequestClose, RequestCreate, RequestList,
                                                RequestReply, RequestShow)
from meshcare.errors import BadInput, NotFound

from .fakedaemon import BEN, CHLOE, DAN, ELM, ME, NAMES, NOW, hid

if TYPE_CHECKING:
    from .fakedaemon import FakeDaemon

STARTERS = ("House agreements", "How we respond to a call")


def make_request(tag: str, asker: str, to: tuple[str, ...], text: str, *, about: str = "conversation",
                 replies: tuple[rr.RequestMessage, ...] = (), closed: bool = False, age: int = 3600) -> rr.PrivateRequest:
    people = (asker, *to)
    last = replies[-1].author if replies else asker
    return rr.PrivateRequest(
        id=hid(tag), circle=ELM, circle_name="Elm St", asker=asker, to=to, people=people, about=about, text=text,
        created=NOW - age, replies=replies, closed=closed, closed_at=NOW - 60 if closed else None, mine=asker == ME,
        me=ME, waiting=not closed and last != ME, names={m: NAMES[m] for m in people})


def make_note(tag: str, title: str, text: str, *, author: str = CHLOE, can_edit: bool = False,
              earlier: tuple[str, ...] = ()) -> rr.LibraryNote:
    versions = tuple(rr.LibraryVersion(id=hid(f"{tag}{i}"), author=author, title=title, text=t,
                                       created=NOW - 86400 * (len(earlier) - i + 1)) for i, t in enumerate(earlier))
    versions += (rr.LibraryVersion(id=hid(tag + "now"), author=author, title=title, text=text, created=NOW - 3600),)
    return rr.LibraryNote(id=hid(tag), circle=ELM, circle_name="Elm St", title=title, text=text, author=author,
                          created=NOW - 3600, edits=len(earlier), versions=versions, can_edit=can_edit,
                          names={author: NAMES[author]})


@dataclasses.dataclass
class FakeCare:
    """What the fake daemon holds of private requests and the library."""

    requests: dict[str, rr.PrivateRequest] = dataclasses.field(default_factory=dict)
    notes: dict[str, rr.LibraryNote] = dataclasses.field(default_factory=dict)
    can_edit: bool = False

    def find(self, ref: str) -> rr.PrivateRequest:
        found = [r for r in self.requests.values() if r.id.startswith(ref)]
        if len(found) != 1:
            raise NotFound(f"no private request {ref!r} that this node can read")
        return found[0]

    def note(self, ref: str) -> rr.LibraryNote:
        found = [n for n in self.notes.values() if n.id.startswith(ref) or n.title.casefold() == ref.casefold()]
        if len(found) != 1:
            raise NotFound(f"no text called {ref!r}")
        return found[0]


def changed(what: str, ident: str, change: str = "updated") -> api.Event:
    return api.CareChangedEvent(circle=ELM, what=what, id=ident, change=change)


def ops(d: FakeDaemon) -> dict[str, Callable[[Any], Awaitable[tuple[api.Result, list[api.Event]]]]]:
    care = d.care

    async def request_create(r: RequestCreate) -> tuple[api.Result, list[api.Event]]:
        facilitators = {CHLOE, BEN} if r.circle else set()
        to = tuple(next(m for m, n in NAMES.items() if n == ref or m.startswith(ref)) for ref in r.to)
        if any(m not in facilitators for m in to):
            raise BadInput("only facilitators can be asked")
        made = make_request(f"req{len(care.requests)}", ME, to, r.text, about=r.about, age=0)
        care.requests[made.id] = made
        return rr.RequestCreateResult(request=made, linked=1), [changed("requests", made.id, "new")]

    async def request_list(_r: RequestList) -> tuple[api.Result, list[api.Event]]:
        return rr.RequestListResult(requests=tuple(care.requests.values())), []

    async def request_show(r: RequestShow) -> tuple[api.Result, list[api.Event]]:
        return rr.RequestShowResult(request=care.find(r.request)), []

    async def request_reply(r: RequestReply) -> tuple[api.Result, list[api.Event]]:
        req = care.find(r.request)
        if req.closed:
            raise BadInput("this request was closed by the person who asked")
        message = rr.RequestMessage(id=hid(f"reply{len(req.replies)}{req.id}"), author=ME, text=r.text, created=NOW)
        req = dataclasses.replace(req, replies=(*req.replies, message), waiting=False)
        care.requests[req.id] = req
        return rr.RequestReplyResult(id=message.id, request=req, linked=1), [changed("requests", req.id)]

    async def request_close(r: RequestClose) -> tuple[api.Result, list[api.Event]]:
        req = care.find(r.request)
        if not req.mine:
            raise BadInput("only the person who asked can close this request")
        req = dataclasses.replace(req, closed=True, closed_at=NOW, waiting=False)
        care.requests[req.id] = req
        return rr.RequestCloseResult(id=hid("close" + req.id), request=req, linked=1), [changed("requests", req.id)]

    def listing() -> rr.LibraryListResult:
        titles = {n.title for n in care.notes.values()}
        return rr.LibraryListResult(circle=ELM, circle_name="Elm St",
                                    notes=tuple(sorted(care.notes.values(), key=lambda n: n.title.casefold())),
                                    can_edit=care.can_edit,
                                    starters=tuple(t for t in STARTERS if t not in titles) if care.can_edit else ())

    async def library_list(_r: LibraryList) -> tuple[api.Result, list[api.Event]]:
        return listing(), []

    async def library_show(r: LibraryShow) -> tuple[api.Result, list[api.Event]]:
        return rr.LibraryShowResult(note=care.note(r.note)), []

    async def library_edit(r: LibraryEdit) -> tuple[api.Result, list[api.Event]]:
        if not care.can_edit:
            raise BadInput("only facilitators write the library")
        was = care.notes.get(r.note) if r.note else next((n for n in care.notes.values() if n.title == r.title), None)
        if was is None:
            note = make_note(f"note{len(care.notes)}", r.title, r.text, author=ME, can_edit=True)
        else:
            version = rr.LibraryVersion(id=hid(f"v{len(was.versions)}{was.id}"), author=ME, title=r.title,
                                        text=r.text, created=NOW)
            note = dataclasses.replace(was, title=r.title, text=r.text, author=ME, edits=was.edits + 1,
                                       versions=(*was.versions, version), names={**was.names, ME: NAMES[ME]})
        care.notes[note.id] = note
        return rr.LibraryEditResult(note=note, new=was is None, changed=True, linked=1), \
            [changed("library", note.id, "new" if was is None else "updated")]

    async def library_remove(r: LibraryRemove) -> tuple[api.Result, list[api.Event]]:
        note = care.note(r.note)
        del care.notes[note.id]
        return rr.LibraryRemoveResult(removed=note.id, title=note.title, linked=1), [changed("library", note.id, "gone")]

    async def library_starters(_r: LibraryStarters) -> tuple[api.Result, list[api.Event]]:
        added = listing().starters
        events = []
        for title in added:
            note = make_note("starter" + title, title, f"The starter text of {title}.", author=ME, can_edit=True)
            care.notes[note.id] = note
            events.append(changed("library", note.id, "new"))
        return rr.LibraryStartersResult(added=added, notes=len(care.notes), linked=1), events

    return {"request.create": request_create, "request.list": request_list, "request.show": request_show,
            "request.reply": request_reply, "request.close": request_close, "library.list": library_list,
            "library.show": library_show, "library.edit": library_edit, "library.remove": library_remove,
            "library.starters": library_starters}


__all__ = ["BEN", "CHLOE", "DAN", "FakeCare", "make_note", "make_request", "ops"]
