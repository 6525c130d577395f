"""What the screens print, as Textual markup built from the model. Pure: no widgets, no I/O, no clock.

Each function returns one markup string (or a list of lines) for one thing on screen: a call in a list,
a call's header, a check-in, a circle. Everything a peer wrote passes through ``format.safe`` here,
so the screens only place these strings. Colour comes from theme variables (``$call-open``...) and
only repeats a word that is already there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .. import vocab
from ..control.views import Call, Checkin, Member, Share
from . import format as fmt
from .model import CircleState, Model

#: Each call status, its style, and the word ``format.call_status`` gives it.
STATUS_STYLE: Final = {"open": "bold $call-open", "claimed": "$call-claimed", "resolved": "$call-resolved"}


def _names(model: Model, call: Call) -> dict[str, str]:
    return model.names(call.circle, dict(call.names))


def call_status_words(model: Model, call: Call) -> str:
    return fmt.call_status(call.status, call.claimer, call.resolved_by, _names(model, call), model.node_id)


def call_reach(model: Model, call: Call) -> str:
    """How far the call got, in words (``format.reach_words``), with whom it still waits on when short."""
    words = fmt.reach_words(call.reached, call.audience, model.linked(), narrow=never_everyone(call) or call.narrowed)
    if call.waiting_on and call.reached and call.status != "resolved" and len(call.waiting_on) <= 3:
        words += f", waiting on {fmt.names_list(call.waiting_on, _names(model, call), model.node_id)}"
    return words


def never_everyone(call: Call) -> bool:
    """The caller kept the call to some of the circle: no step of its ladder goes to everyone."""
    return bool(call.ladder) and all(step.to != "circle" for step in call.ladder)


def who_hears(model: Model, call: Call) -> str:
    """Who the call goes to, from its ladder, in a sentence: "everyone in the circle at once"; "only Ben
    Okafor and Chloe Hart: it never goes to the whole circle"; "the facilitators first, then everyone
    in the circle after 30 min if nobody has taken it". A narrowed call adds that it is not for everyone
    (the caller's "who not to involve" list: never who)."""
    words = _who_hears(model, call)
    if not call.narrowed:
        return words
    return words + ("; leaving out the people on your \"who not to involve\" list" if call.mine
                    else "; not for everyone: the caller chose who to involve")


def _who_hears(model: Model, call: Call) -> str:
    steps = call.ladder
    if not steps or (len(steps) == 1 and steps[0].to == "circle"):
        return "everyone in the circle at once"
    names = _names(model, call)

    def whom(to: str, members: Sequence[str]) -> str:
        if to == "chosen":
            return fmt.names_list(members, names, model.node_id) or "the people chosen"
        return "the facilitators" if to == "facilitators" else "everyone in the circle"
    first = whom(steps[0].to, steps[0].members)
    if len(steps) == 1:
        return f"only {first}: it never goes to the whole circle"
    later = ", then ".join(f"{whom(s.to, s.members)} after {fmt.span(s.after * 60)}" for s in steps[1:])
    words = f"{first} first, then {later} if nobody has taken it"
    return words + ("; it never goes to the whole circle" if never_everyone(call) else "")


def call_row(model: Model, call: Call, now: float, g: fmt.Glyphs, width: int = 80) -> str:
    """Two lines for a list: how soon, where it stands, from whom, where, when; then the start of their
    words and how far the call got."""
    names = _names(model, call)
    status = f"[{STATUS_STYLE.get(call.status, '')}]{call_status_words(model, call)}[/]"
    who = fmt.name_of(call.caller, names, model.node_id)
    where = f"from {who}, {fmt.safe(call.circle_name, 30)} {g.sep} {fmt.ago(call.created, now)}"
    if call.status == "resolved":
        return f"{status} {g.sep} {where}\n   [italic]{fmt.one_line(call.text, max(width - 8, 20))}[/]"
    urgency = fmt.urgency_label(call.urgency, g)
    urgency = f"[bold $urgent]{urgency}[/]" if call.urgency == "now" else urgency
    reach = call_reach(model, call)
    excerpt = fmt.one_line(call.text, max(width - 12 - len(reach), 16))
    return f"{urgency} {g.sep} {status} {g.sep} {where}\n   [italic]{excerpt}[/] {g.sep} {reach}"


def wishes_block(call: Call) -> str:
    """The caller's wishes, first thing on the call's screen ("" when they named none)."""
    wishes = fmt.wishes_words(call.consent, call.consent_note)
    if not wishes:
        return ""
    return "[b]Their wishes:[/b] " + "; ".join(wishes)


def call_header(model: Model, call: Call, now: float, g: fmt.Glyphs) -> str:
    """The call's screen, top part: who, where, when, how soon, what would help, where it stands."""
    names = _names(model, call)
    who = fmt.name_of(call.caller, names, model.node_id)
    lines = [f"[b]Call for support from {who}[/b] in {fmt.safe(call.circle_name)} {g.sep} "
             f"{fmt.ago(call.created, now)} {g.sep} call {fmt.short_id(call.id)}",
             f"How soon: [b]{fmt.urgency_words(call.urgency)}[/b]"
             + (f" {g.sep} Would help: {fmt.needs_words(call.needs)}" if call.needs else ""),
             f"Status: [{STATUS_STYLE.get(call.status, '')}]{call_status_words(model, call)}[/]"
             + (f" since {fmt.ago(call.claimed_at, now)}" if call.status == "claimed" and call.claimed_at else "")
             + f" {g.sep} {call_reach(model, call)}"]
    if call.ladder and (len(call.ladder) > 1 or call.ladder[0].to != "circle"):
        lines.append(f"Who it goes to: {who_hears(model, call)}")
    if call.claimed_too:
        lines.append("Your claim came after theirs: you are next in line if they let go.")
    if call.reach:
        lines.append(f"How to reach them: {fmt.safe(call.reach)}")
    if call.followup_at:
        lines.append(f"A follow-up check-in is planned {fmt.until(call.followup_at, now)}.")
    lines.append("")
    lines.append(fmt.safe(call.text))
    return "\n".join(lines)


def offer_row(model: Model, call: Call, index: int, now: float) -> str:
    offer = call.offers[index]
    names = _names(model, call)
    said = f": \"{fmt.safe(offer.text, 200)}\"" if offer.text else ""
    accepted = "  [b](accepted)[/b]" if offer.accepted else ""
    return (f"{fmt.name_of(offer.author, names, model.node_id)}: {fmt.offer_words(offer.kind)}{said} "
            f"({fmt.ago(offer.created, now)}){accepted}")


def thread(model: Model, call: Call, now: float) -> str:
    """The call's updates, oldest first ("" when there are none)."""
    names = _names(model, call)
    return "\n".join(f"[b]{fmt.name_of(u.author, names, model.node_id)}[/b] ({fmt.ago(u.created, now)}): "
                     f"{fmt.safe(u.text)}" for u in call.updates)


def plan_block(model: Model, share: Share, names: dict[str, str]) -> str:
    """A support plan shared in a call's thread or the circle."""
    whose = fmt.name_of(share.author, names, model.node_id)
    title = "Your support plan" if whose == "you" else f"{whose}'s support plan"
    parts = [("What helps", share.plan.helps), ("Please avoid", share.plan.avoid),
             ("Who to contact", share.plan.contact), ("Anything else", share.plan.other)]
    body = [f"  [b]{label}:[/b] {fmt.safe(text)}" for label, text in parts if text]
    return "\n".join([f"[b]{title}[/b] (shared with {'this call' if share.to == 'call' else 'the circle'})", *body])


# --- check-ins ------------------------------------------------------------------------------------


def checkin_row(model: Model, checkin: Checkin, now: float, g: fmt.Glyphs) -> str:
    mine = model.my_reply(checkin)
    waiting = model.node_id in checkin.not_answered
    state = ("[bold $call-open]waiting for your answer[/]" if waiting
             else f"you answered \"{fmt.safe(mine.option_text)}\"" if mine and mine.option_text
             else "you asked" if checkin.author == model.node_id else "")
    who = fmt.name_of(checkin.author, checkin.names, model.node_id)
    return (f"{fmt.one_line(checkin.prompt, 60)}\n   {fmt.safe(checkin.circle_name, 30)} {g.sep} from {who} "
            f"{g.sep} {fmt.ago(checkin.created, now)}" + (f" {g.sep} {state}" if state else ""))


def readers_words(model: Model, checkin: Checkin) -> str:
    """Who will read this person's answer, by name: "Chloe Hart and Dan (the facilitators)"."""
    names = model.names(checkin.circle, dict(checkin.names))
    readers = fmt.names_list(model.readers_of(checkin), names, model.node_id)
    if checkin.visibility == "facilitators":
        return f"{readers or 'the facilitators'} (the facilitators)"
    return f"everyone in {fmt.safe(checkin.circle_name)}" + (f": {readers}" if readers else "")


def sees_tally(model: Model, checkin: Checkin) -> bool:
    """The tally and the answers are for the facilitators, or for everyone when the check-in says so."""
    return checkin.visibility == "circle" or model.role_in(checkin.circle) == "facilitator" \
        or checkin.author == model.node_id


def checkin_detail(model: Model, checkin: Checkin, now: float, g: fmt.Glyphs) -> str:
    names = model.names(checkin.circle, dict(checkin.names))
    who = fmt.name_of(checkin.author, names, model.node_id)
    lines = [f"[b]{fmt.safe(checkin.prompt)}[/b]",
             f"{fmt.safe(checkin.circle_name)} {g.sep} from {who} {g.sep} {fmt.ago(checkin.created, now)}", ""]
    tally = sees_tally(model, checkin)
    for i, option in enumerate(checkin.options, 1):
        count = f"  ({checkin.tally.get(option, 0)})" if tally else ""
        lines.append(f"  [b]{i}[/b]  {fmt.safe(option)}{count}")
    lines.append("")
    mine = model.my_reply(checkin)
    if mine is not None and mine.option_text:
        lines.append(f"Your answer: \"{fmt.safe(mine.option_text)}\"" + (f", {fmt.safe(mine.text)}" if mine.text
                                                                            else "") + " (you can change it)")
    if checkin.author != model.node_id:
        lines.append(f"Who will read your answer: {readers_words(model, checkin)}")
    if tally:
        lines.append(f"Answered: {checkin.answered}")
        for reply in checkin.replies:
            if reply.option_text is not None and reply.member != model.node_id:
                said = f", \"{fmt.safe(reply.text, 200)}\"" if reply.text else ""
                who = fmt.name_of(reply.member, names, model.node_id)
                lines.append(f"  {who}: {fmt.safe(reply.option_text)}{said}")
        if checkin.not_answered:
            lines.append("Not answered yet: " + fmt.names_list(checkin.not_answered, names, model.node_id))
    return "\n".join(lines)


# --- circles --------------------------------------------------------------------------------------


def circle_row(model: Model, state: CircleState, now: float, g: fmt.Glyphs) -> str:
    """A circle on home: who is online, this person's availability, sync."""
    online = model.online()
    people = [m for m in state.members.values() if m.role in vocab.PERSON_ROLES and not m.me
              and m.id != model.node_id]
    here = sorted((m for m in people if m.id in online), key=lambda m: m.name.casefold())
    names = {m.id: m.name for m in people}
    who = (f"online: {fmt.names_list([m.id for m in here], names)}" if here else "nobody else online")
    me = model.me_in(state.circle.id)
    mine = f"you: {fmt.presence_words(me.status, me.until, now)}" if me else ""
    sync = "catching up" if state.sync == "catching_up" else ""
    parts = [f"[b]{fmt.safe(state.circle.name, 40)}[/b]", f"{len(people) + (1 if me else 0)} people", who, mine, sync]
    return f" {g.sep} ".join(p for p in parts if p)


def member_row(model: Model, member: Member, now: float, g: fmt.Glyphs) -> str:
    """A member on the circle's screen: online, name, role, availability, verified; every mark a word too."""
    online = member.id in model.online() or member.me
    mark = f"{g.online} online " if online else f"{g.offline} offline"
    name = "you" if member.me else fmt.safe(member.name, vocab.MAX_NAME)
    verified = ("" if member.me else f"{g.verified} verified" if member.verified
                else f"{g.unverified} not verified yet")
    load = f"has {member.load} call{'s' if member.load != 1 else ''}" if member.load else ""
    parts = [f"{mark} [b]{name}[/b]", member.role, fmt.presence_words(member.status, member.until, now), load,
             verified]
    return f" {g.sep} ".join(p for p in parts if p)


def members_sorted(state: CircleState) -> list[Member]:
    """This person first, then by name."""
    return sorted(state.members.values(), key=lambda m: (not m.me, m.name.casefold(), m.id))
