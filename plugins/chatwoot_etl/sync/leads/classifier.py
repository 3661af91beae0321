"""The lead, visit and conversion flags of a conversation, read as a dialogue.

Only the contact's own messages show intent; the business's messages (agents, bots, templates)
are context for them: an offer or a question ("Quer agendar uma aula experimental? Qual dia?")
makes the contact's "quarta 19h" a booking and their "sim" an acceptance, a proposed slot ("tenho
terça 8h ou quinta 17h") makes "pode ser" one, a numbered menu turns "2" into the words of its
option 2. A cancellation undoes a booking until a new time is agreed; a business confirmation of a
payment the contact spoke of is a conversion. A menu, an offer or a confirmation alone is never a lead.

The funnel is nested, and enforced: a conversion counts as having passed the visit stage, a visit
implies a lead.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from chatwoot_etl.sync.leads.rules import NEGATED, NEGATION_WORDS, LeadRules

CONTACT, BUSINESS = "contact", "business"
_SIGNAL_CACHE_LIMIT = 200_000
_MAX_NEGATION_PASSES = 4
_DIGIT = re.compile(r"\d")
# Unicode combining-mark blocks (what unicodedata.combining() flags for Latin text), removed in C.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\ufe0f]")
# The expressions that find numbers begin with a digit (a lookbehind after it, not before), which
# lets the regex engine skip to the digits instead of trying every position: test_leads holds
# them to their plain forms ((?<!\d)\d{1,2}...).
# A numbered menu line ("1️⃣ Planos", "2 - Aula experimental", "3) Já sou aluno") or an inline
# "Digite 1 para comprar, 2 para alugar".
_MENU_LINE = re.compile(r"^\s*\*?(\d{1,2}|[a-eA-E](?=[-.):–—]))\s*(?:\ufe0f?\u20e3|[-.):–—]|\s)\s*\*?(\S.{1,80})$",
                        re.MULTILINE)
# What a second option line begins with, right after a line break: found by a fast literal search
# where _MENU_LINE tries its ^ at every position; without one, a text has one option line at most.
_LATER_OPTION = re.compile(r"\n\s*\*?(?:\d|[a-eA-E][-.):–—])")
_MENU_INLINE = re.compile(r"(\d(?<!\d\d)\d?)\s*(?:para|pra|p/|-)\s+([^,;.\n]{2,60}?)(?=\s*(?:,|;|\.|\n|\bou\b|$))",
                          re.IGNORECASE)
_MENU_CHOICE = re.compile(r"^(?:(?:opcao|op|numero|n|quero|escolho|e|seria)\s*(?:a|o)?\s*)?(\d{1,2}|[a-e])\s*[.!)]?$")
_MENU_CHOICE_LONGEST = len("escolho o 12 .")  # in a normalised text (single spaces), as long as a choice gets
# A time a business can hold a slot at ("18h", "9:30", "meio-dia"), not a part of the day.
# (Its first character taken as a class lets the engine skip in C to the next digit or "m".)
_SLOT_TIME = re.compile(r"[\dm](?:(?<=\d)(?<!\d\d)\d?\s?(?:h|:\d{2})|(?<=m)eio[- ]dia)")
# A range of hours ("das 08:00 às 18:00", "9h-13h") is opening hours, not a time offered.
_HOURS_RANGE = re.compile(r"\d(?<!\d\d)(?:(?<=das \d)\d?|\d?\s?h\d{0,2}|\d?:\d{2})\s*(?:as|a|ate|-|–)\s*"
                          r"\d{1,2}(?:\s?h\d{0,2}|:\d{2})")


def normalise_text(text: str) -> str:
    """Accent- and case-insensitive form: NFKD, combining marks dropped, casefolded, spaces squeezed."""
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Turn:
    role: str           # CONTACT or BUSINESS
    text: str           # "" for an attachment without text


class Message(msgspec.Struct, gc=False):
    """The keys of a message_compiled entry the dialogue is read from; the others are skipped unread.
    Made by the ten thousand per chunk and never part of a cycle: kept out of the garbage collector."""

    text: Any = None
    sender: Any = None
    message_type: Any = None
    private: Any = None


_USUAL_SHAPE = msgspec.json.Decoder(list[Message] | None)


def _reject_constant(name: str) -> None:
    raise ValueError(f"JSON constant {name} is not valid in jsonb")


_ANY_SHAPE = json.JSONDecoder(parse_constant=_reject_constant)


def decode_messages(text: str) -> Any:
    """A message_compiled JSON text, decoded: a list of Message where it is a list of objects (the
    source's shape, about 6x faster than the json module), else the json module's value for it, so
    anything else decodes exactly as before. ValueError when it is not JSON (NaN and Infinity
    refused, as jsonb refuses them)."""
    try:
        return _USUAL_SHAPE.decode(text)
    except msgspec.MsgspecError:
        return _ANY_SHAPE.decode(text)


def public_messages(parsed: Any) -> list[tuple[str, str]]:
    """(role, text) of the public dialogue in one decoded message_compiled (Message or dict items): the contact's incoming
    messages ("" for an attachment) and the business's outgoing ones with text (agents, bots,
    templates); private notes and activity left out. A message_type is a number (text "0"
    accepted, False never taken for 0), private is false / null / "false" / "f"."""
    dialogue: list[tuple[str, str]] = []
    if type(parsed) is not list:
        return dialogue
    for item in parsed:
        if type(item) is Message:
            private, kind, text, sender = item.private, item.message_type, item.text, item.sender
        elif type(item) is dict:
            try:  # the source's objects have every key (subscripts cost half of get() calls)
                private, kind, text, sender = item["private"], item["message_type"], item["text"], item["sender"]
            except KeyError:
                private, kind = item.get("private"), item.get("message_type")
                text, sender = item.get("text"), item.get("sender")
        else:
            continue
        if not (private is False or private is None or private == "false" or private == "f"):
            continue
        if kind is True or kind is False:
            continue
        if kind == 0 or kind == "0":
            if sender == "Contact":
                dialogue.append((CONTACT, text if type(text) is str else ""))
        elif kind in (1, 3, "1", "3") and type(text) is str and text.strip():
            dialogue.append((BUSINESS, text))
    return dialogue


def turns_of(parsed: Any) -> list[Turn]:
    """The public dialogue of one decoded message_compiled, as turns."""
    return [Turn(role, text) for role, text in public_messages(parsed)]


def contact_texts(parsed: Any) -> list[str]:
    """Texts of the contact's own public incoming messages (non-empty)."""
    return [t.text for t in turns_of(parsed) if t.role == CONTACT and t.text.strip()]


@dataclass(slots=True)   # made by the thousand: a frozen dataclass's __init__ costs twice as much
class ContactSignals:
    buy: bool = False
    price: bool = False
    visit: bool = False
    when: bool = False
    negated: bool = False
    converted: bool = False
    declined: bool = False
    cancel: bool = False
    reschedule: bool = False
    accept: bool = False
    existing: bool = False
    hedged: bool = False
    choice: str | None = None
    text: bool = False       # the message has words (not an attachment alone)


@dataclass(slots=True)
class BusinessSignals:
    offer: bool = False
    when: bool = False
    confirm: bool = False
    paid: bool = False
    unavailable: bool = False
    menu: dict[str, str] = field(default_factory=dict)


def _voided(norm: str, rules: LeadRules) -> str:
    neutral = norm
    for _ in range(_MAX_NEGATION_PASSES):
        voided = rules.negated_intent.sub(NEGATED, neutral)
        if voided == neutral:
            break
        neutral = voided
    return neutral


def contact_matches(text: str, rules: LeadRules) -> tuple[int, int, str | None] | None:
    """The contact keys a message's words match (said), those still matching once a negated intent
    is voided (meant), and the menu choice it may be; None for a message without words."""
    norm = normalise_text(text)
    if not norm:
        return None
    said = rules.contact_keys.matching(norm)
    # a negated intent ("nao quero comprar") is voided first; it begins with a negation word
    neutral = _voided(norm, rules) if said & rules.contact_keys.bits[NEGATION_WORDS] else norm
    meant = said if neutral == norm else rules.contact_keys.matching(neutral)
    choice = _MENU_CHOICE.match(norm) if len(norm) <= _MENU_CHOICE_LONGEST else None
    return said, meant, choice.group(1) if choice else None


def signals_of(said: int, meant: int, choice: str | None, rules: LeadRules) -> ContactSignals:
    """What a message with words says, from contact_matches()."""
    key = rules.contact_keys.bits
    declined = bool(said & key["decline"])
    return ContactSignals(
        # a message that declines ("já comprei ap ano passado") is no interest in what it names
        buy=not declined and bool(meant & key["buy_intent"]),
        price=not declined and bool(meant & key["price_intent"]),
        visit=not declined and bool(meant & key["visit_intent"]),
        when=bool(meant & key["datetime_expressions"]),
        negated=bool(meant & key["negations"]),
        converted=bool(meant & key["conversion"]),
        declined=declined,
        cancel=bool(said & key["cancellation"]),
        reschedule=bool(said & key["reschedule"]),
        accept=bool(said & key["acceptance"]),
        existing=bool(said & key["existing_customer"]),
        hedged=bool(said & key["hedge"]),
        choice=choice,
        text=True,
    )


def contact_signals(text: str, rules: LeadRules) -> ContactSignals:
    found = contact_matches(text, rules)
    return ContactSignals() if found is None else signals_of(*found, rules)


def menu_options(text: str) -> dict[str, str]:
    """A numbered (or lettered) menu's options (at least two), else {}."""
    if _LATER_OPTION.search(text):
        options = {n.lower(): label.strip() for n, label in _MENU_LINE.findall(text)}
        if len(options) >= 2:
            return options
    if not _DIGIT.search(text):  # an inline option begins with its number
        return {}
    options = {n: label.strip() for n, label in _MENU_INLINE.findall(text)}
    return options if len(options) >= 2 else {}


def _affirmed(pattern: re.Pattern[str], norm: str) -> bool:
    """A match in a statement, not in a question ("quer deixar outro dia marcado?")."""
    for found in pattern.finditer(norm):
        sentence = re.split(r"[.!\n]", norm[found.end():], maxsplit=1)[0]
        if "?" not in sentence:
            return True
    return False


def business_signals(text: str, rules: LeadRules) -> BusinessSignals:
    menu = menu_options(text)
    if menu:  # a numbered menu is read for its options alone (judge() reads nothing else of it)
        return BusinessSignals(menu=menu)
    norm = normalise_text(text)
    key = rules.business_keys.bits
    said = rules.business_keys.matching(norm)
    slot = False
    # a range of hours ends in a slot time: where none stands, there is no range to take out
    if _SLOT_TIME.search(norm):
        timed = _HOURS_RANGE.sub(" ", norm)
        found = _SLOT_TIME.search(timed)
        expressions = rules.patterns["datetime_expressions"]
        # the slot time is mostly a datetime expression itself: tried there before the whole text
        slot = found is not None and bool(expressions.match(timed, found.start()) or expressions.search(timed))
    return BusinessSignals(
        # a time put as a question ("amanhã 8h ou 13h?") is an offer in itself
        offer=bool(said & key["offer"]) or (slot and "?" in norm),
        when=slot,
        confirm=bool(said & key["booking_confirmation"]) and _affirmed(rules.patterns["booking_confirmation"], norm),
        paid=bool(said & key["payment_confirmation"]),
        unavailable=bool(said & key["unavailable"]),
    )


def _cached(rules: LeadRules, turn: Turn) -> Any:
    key = (turn.role, turn.text)
    cache = rules.signal_cache
    found = cache.get(key)
    if found is None:
        if len(cache) >= _SIGNAL_CACHE_LIMIT:
            cache.clear()
        found = contact_signals(turn.text, rules) if turn.role == CONTACT else business_signals(turn.text, rules)
        cache[key] = found
    return found


@dataclass
class Verdict:
    is_lead: bool = False
    visit_scheduled: bool = False
    crm_converted: bool = False
    score: int = 0
    label: str = "N/A"
    contact_messages: int = 0
    # flag -> (turn index, why): the turn that decided it
    evidence: dict[str, tuple[int, str]] = field(default_factory=dict)


_FAR = -10**6


def judge(turns: Sequence[Turn], rules: LeadRules, labels: Sequence[str]) -> Verdict:
    """The flags, score and label of one conversation (labels: high, medium, low, unjudged)."""
    window = rules.windows["dialogue_window"]
    confirmation_window = rules.windows["confirmation_window"]
    verdict = Verdict()
    evidence = verdict.evidence
    lead = scheduled = converted = declined = existing = False
    seen = {"buy": False, "price": False, "visit": False}
    visit_context = offer_at = slot_at = contact_time_at = _FAR
    confirmed = prospect = False
    contact_visit_at = _FAR   # position (in contact messages) of the contact's last visit intent
    menu: dict[str, str] = {}
    contact_count = 0

    def mark(flag: str, index: int, why: str) -> None:
        evidence.setdefault(flag, (index, why))

    for index, turn in enumerate(turns):
        if turn.role == BUSINESS:
            b = _cached(rules, turn)
            if b.menu:
                menu = b.menu
                continue
            if b.offer:
                offer_at = visit_context = index
            if b.when and (b.offer or index - visit_context <= window):
                slot_at = index
            # a confirmation books what the contact answered with a time, or a time it names itself
            if b.confirm and lead and not scheduled and (
                    index - contact_time_at <= 2 or (b.when and index - visit_context <= window)):
                scheduled = True
                evidence["visit_scheduled"] = (index, "booking_confirmation after the contact's answer")
            if b.confirm and scheduled:
                confirmed = True
            if b.unavailable and scheduled and index - contact_time_at <= 2 and not b.confirm:
                scheduled = False  # "não abrimos domingo": the time the contact asked for is not agreed
                evidence.pop("visit_scheduled", None)
            if b.paid and lead and not converted:
                converted = True
                mark("crm_converted", index, "payment_confirmation of what the contact paid")
            continue

        s: ContactSignals = _cached(rules, turn)
        if s.text:
            contact_count += 1
        why = ""
        if s.choice is not None and s.choice in menu:  # "2": the words of the menu's option 2
            why = f"menu option {s.choice} ({menu[s.choice]})"
            option = contact_signals(menu[s.choice], rules)
            s = ContactSignals(buy=option.buy, price=option.price, visit=option.visit, existing=option.existing,
                               text=True)
        existing = existing or s.existing
        for name, hit in (("buy", s.buy), ("price", s.price), ("visit", s.visit)):
            if hit:
                # something new asked for (moving an appointment one has is no new ask)
                prospect = prospect or not (s.existing or s.reschedule)
                seen[name] = True
                lead = True
                mark("is_lead", index, why or f"{name}_intent")
        if s.visit:
            visit_context = index
            contact_visit_at = contact_count
        if s.when and not s.negated:
            contact_time_at = index
        if s.cancel:
            if index - visit_context <= window:  # (a booking made earlier already made a lead)
                lead = True
                mark("is_lead", index, "cancellation of a booking")
            scheduled = False
            evidence.pop("visit_scheduled", None)
            if s.when and s.reschedule:  # "desmarca a de quarta, pode ser sexta 18h?"
                scheduled = lead = True
                evidence["visit_scheduled"] = (index, "rescheduled to a new time")
        elif s.when and not s.negated and not s.hedged and (
                index - visit_context <= window or 0 <= contact_count - contact_visit_at <= confirmation_window):
            scheduled = lead = True
            evidence["visit_scheduled"] = (index, "datetime_expressions in a visit context")
            mark("is_lead", index, "datetime_expressions in a visit context")
        elif s.accept and not s.negated and not s.hedged and index - slot_at <= 2:
            scheduled = lead = True
            evidence["visit_scheduled"] = (index, "acceptance of a proposed slot")
            mark("is_lead", index, "acceptance of a proposed slot")
        elif s.accept and not s.negated and not s.hedged and index - offer_at <= 2:
            lead = True
            mark("is_lead", index, "acceptance of an offer")
        if s.converted:
            converted = lead = True
            mark("crm_converted", index, "conversion")
            mark("is_lead", index, "conversion")
        declined = declined or s.declined

    # A customer's own business (a supplier's, a job seeker's) is no lead, unless the customer also
    # asked for something new, in words of their own, and got it booked.
    if existing and not (confirmed and prospect):
        lead = scheduled = converted = False
        evidence.clear()
    # the funnel: a conversion has passed the visit stage, a visit is a lead's
    scheduled = scheduled or converted
    lead = lead or scheduled
    verdict.is_lead, verdict.visit_scheduled, verdict.crm_converted = lead, scheduled, converted
    verdict.contact_messages = contact_count
    w = rules.weights
    engagement = min(max(contact_count - 1, 0) * w["per_extra_message"], w["max_engagement"])
    score = (seen["buy"] * w["buy_intent"] + seen["price"] * w["price_intent"] + seen["visit"] * w["visit_intent"]
             + scheduled * w["visit_scheduled"] + converted * w["conversion"] + declined * w["decline"]
             + (engagement if contact_count else 0))
    verdict.score = max(0, min(100, int(score)))
    high, medium, low, unjudged = labels
    verdict.label = (unjudged if contact_count == 0 else high if verdict.score >= rules.label_alta
                     else medium if verdict.score >= rules.label_media else low)
    return verdict
