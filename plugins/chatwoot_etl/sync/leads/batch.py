"""The classifier over many conversations at once: classifier.judge, in array form.

judge() walks one conversation turn by turn (and says why); a sync classifies thousands per chunk,
where a Python loop per turn costs more than the regular expressions. Here each message is one
bit mask of its signals (cached per text), the conversations are laid end to end, and every
"last X before this turn" of judge() is a running maximum of positions, every "so far" a running
sum, so each rule is one array expression. An answer to a numbered menu takes the mask of the
option's words, as judge() reads it. tests/unit/sync/test_lead_batch.py holds the two to the same
results on every labelled conversation and on shuffled ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chatwoot_etl.sync.leads.classifier import (
    CONTACT,
    BusinessSignals,
    ContactSignals,
    business_signals,
    contact_matches,
    contact_signals,
    public_messages,
    signals_of,
)
from chatwoot_etl.sync.leads.rules import LeadRules

# One bit per signal; a contact message carries IS_CONTACT.
(C_BUY, C_PRICE, C_VISIT, C_WHEN, C_NEG, C_CONV, C_DECL, C_CANCEL, C_RESCHED, C_ACCEPT, C_EXIST, C_HEDGE, C_TEXT,
 B_OFFER, B_SLOT, B_CONFIRM, B_PAID, B_UNAVAIL, B_MENU, IS_CONTACT) = (1 << i for i in range(20))
_FAR = -(10**12)
_CACHE_LIMIT = 200_000
# The contact signals the business's messages give a meaning to (context for an answer, a lead to
# confirm a booking or a payment of): a conversation without any needs none of the business read.
_READ = C_BUY | C_PRICE | C_VISIT | C_WHEN | C_CONV | C_CANCEL | C_RESCHED | C_ACCEPT


def _contact_mask(s: ContactSignals) -> int:
    return (IS_CONTACT | C_BUY * s.buy | C_PRICE * s.price | C_VISIT * s.visit | C_WHEN * s.when | C_NEG * s.negated
            | C_CONV * s.converted | C_DECL * s.declined | C_CANCEL * s.cancel | C_RESCHED * s.reschedule
            | C_ACCEPT * s.accept | C_EXIST * s.existing | C_HEDGE * s.hedged | C_TEXT * s.text)


def _business_mask(b: BusinessSignals) -> int:
    if b.menu:  # judge() reads nothing else of a menu
        return B_MENU
    return B_OFFER * b.offer | B_SLOT * b.when | B_CONFIRM * b.confirm | B_PAID * b.paid | B_UNAVAIL * b.unavailable


def _masks(messages: Sequence[Any], rules: LeadRules) -> tuple[list[int], list[int]]:
    """Every public message's mask, end to end, and each conversation's message count. An answer
    to a numbered menu ("2") gets the mask of the option's words, as judge() reads it."""
    contact: dict[str, tuple[int, str | None]] = rules.signal_cache.setdefault("contact_masks", {})
    business: dict[str, tuple[int, dict[str, str]]] = rules.signal_cache.setdefault("business_masks", {})
    options: dict[str, int] = rules.signal_cache.setdefault("menu_option_masks", {})
    if len(contact) + len(business) + len(options) > _CACHE_LIMIT:
        contact.clear()
        business.clear()
        options.clear()
    masks: list[int] = []
    lengths: list[int] = []
    for parsed in messages:
        dialogue = public_messages(parsed)
        start = len(masks)
        if _from_cache(dialogue, masks, contact, business, options, rules):
            lengths.append(len(masks) - start)
            continue
        del masks[start:]
        said: list[tuple[int, str | None]] = []
        for role, text in dialogue:
            if role == CONTACT:
                said.append(contact.get(text) or _read_contact(contact, text, rules))
        # the business's messages are context for the contact's: where the contact said nothing
        # that any rule reads, they cannot change a flag, and are not read
        if not any(mask & _READ or choice is not None for mask, choice in said):
            masks.extend(mask for mask, _ in said)
            lengths.append(len(said))
            continue
        menu: dict[str, str] = {}
        spoken = iter(said)
        for role, text in dialogue:
            if role == CONTACT:
                mask, choice = next(spoken)
                if choice is not None and choice in menu:
                    mask = _option_mask(options, menu[choice], rules)
            else:
                context = business.get(text)
                if context is None:
                    context_signals = business_signals(text, rules)
                    context = business[text] = (_business_mask(context_signals), context_signals.menu)
                mask = context[0]
                if context[1]:
                    menu = context[1]
            masks.append(mask)
        lengths.append(len(dialogue))
    return masks, lengths


def _from_cache(dialogue: list[tuple[str, str]], masks: list[int], contact: dict[str, tuple[int, str | None]],
                business: dict[str, tuple[int, dict[str, str]]], options: dict[str, int], rules: LeadRules) -> bool:
    """The masks of a conversation whose business messages have all been read before (greetings,
    menus, templates recur), in one pass; False at the first one that has not."""
    menu: dict[str, str] = {}
    for role, text in dialogue:
        if role == CONTACT:
            mask, choice = contact.get(text) or _read_contact(contact, text, rules)
            if choice is not None and choice in menu:
                mask = _option_mask(options, menu[choice], rules)
            masks.append(mask)
        else:
            context = business.get(text)
            if context is None:
                return False
            masks.append(context[0])
            if context[1]:
                menu = context[1]
    return True


def _read_contact(cache: dict[str, tuple[int, str | None]], text: str, rules: LeadRules) -> tuple[int, str | None]:
    matched = contact_matches(text, rules)
    found: tuple[int, str | None]
    if matched is None:
        found = cache[text] = (IS_CONTACT, None)
        return found
    said, meant, choice = matched
    # few texts match a combination of keys no earlier text matched: their masks are kept by it
    by_keys: dict[tuple[int, int], int] = rules.signal_cache.setdefault("masks_by_keys", {})
    mask = by_keys.get((said, meant))
    if mask is None:
        mask = by_keys[said, meant] = _contact_mask(signals_of(said, meant, None, rules))
    found = cache[text] = (mask, choice)
    return found


def _option_mask(cache: dict[str, int], option: str, rules: LeadRules) -> int:
    mask = cache.get(option)
    if mask is None:
        s = contact_signals(option, rules)
        mask = cache[option] = IS_CONTACT | C_TEXT | C_BUY * s.buy | C_PRICE * s.price | C_VISIT * s.visit \
            | C_EXIST * s.existing
    return mask


def judge_batch(messages: Sequence[Any], rules: LeadRules, labels: Sequence[str]) -> dict[str, np.ndarray]:
    """is_lead, visit_scheduled, crm_converted, score and label per conversation (decoded
    message_compiled lists), equal to judge() on each."""
    masks, lengths = _masks(messages, rules)
    n = len(lengths)
    count = np.asarray(lengths, dtype=np.int64)
    out = {"is_lead": np.zeros(n, bool), "visit_scheduled": np.zeros(n, bool), "crm_converted": np.zeros(n, bool),
           "score": np.zeros(n, np.int64), "contact_messages": np.zeros(n, np.int64)}
    if masks:
        _vector_rules(np.asarray(masks, dtype=np.int64), count, rules, out)
    high, medium, low, unjudged = labels
    score, judged = out["score"], out["contact_messages"] > 0
    out["label"] = np.where(~judged, unjudged, np.where(score >= rules.label_alta, high,
                                                        np.where(score >= rules.label_media, medium, low)))
    return out


def _vector_rules(m: np.ndarray, count: np.ndarray, rules: LeadRules, out: dict[str, np.ndarray]) -> None:
    window, confirmation_window = rules.windows["dialogue_window"], rules.windows["confirmation_window"]
    has_turns = count > 0
    starts_all = np.cumsum(count) - count
    starts = starts_all[has_turns]                      # reduceat over conversations with turns
    start = np.repeat(starts_all, count)                # each turn's conversation start
    at = np.arange(len(m))

    def bit(flag: int) -> np.ndarray:
        return (m & flag) != 0

    def last(condition: np.ndarray) -> np.ndarray:
        """Position of the last turn at or before this one (same conversation) where condition holds."""
        found = np.maximum.accumulate(np.where(condition, at, -1))
        return np.where(found >= start, found, _FAR)

    def before(events: np.ndarray) -> np.ndarray:
        """Whether an event happened at an earlier turn of the same conversation."""
        total = np.cumsum(events)
        return (total - events - (total - events)[start]) > 0

    def anywhere(values: np.ndarray) -> np.ndarray:
        found = np.zeros(len(count), bool)
        found[has_turns] = np.logical_or.reduceat(values, starts)
        return found

    contact = bit(IS_CONTACT)
    business = ~contact
    offer = business & bit(B_OFFER)
    visit_context = last((contact & bit(C_VISIT)) | offer)
    offer_at = last(offer)
    slot_at = last(business & bit(B_SLOT) & (bit(B_OFFER) | (at - visit_context <= window)))
    texts = contact & bit(C_TEXT)
    contact_count = np.cumsum(texts) - (np.cumsum(texts) - texts)[start]
    last_visit = last(contact & bit(C_VISIT))
    visit_count = np.where(last_visit >= 0, contact_count[np.maximum(last_visit, 0)], _FAR)
    time_at = last(contact & bit(C_WHEN) & ~bit(C_NEG))

    cancel = contact & bit(C_CANCEL)
    free = ~bit(C_NEG) & ~bit(C_HEDGE)
    gap = contact_count - visit_count
    when_book = (contact & ~cancel & bit(C_WHEN) & free
                 & ((at - visit_context <= window) | ((gap >= 0) & (gap <= confirmation_window))))
    accept = contact & ~cancel & ~when_book & bit(C_ACCEPT) & free
    accept_book = accept & (at - slot_at <= 2)
    accept_offer = accept & ~accept_book & (at - offer_at <= 2)
    rebook = cancel & bit(C_WHEN) & bit(C_RESCHED)
    intent = contact & (bit(C_BUY) | bit(C_PRICE) | bit(C_VISIT))
    converted_here = contact & bit(C_CONV)
    lead_event = (intent | (cancel & (at - visit_context <= window)) | when_book | accept_book | accept_offer | rebook
                  | converted_here)
    lead_before = before(lead_event)

    confirm = business & bit(B_CONFIRM)
    confirm_book = confirm & lead_before & ((at - time_at <= 2) | (bit(B_SLOT) & (at - visit_context <= window)))
    unbook = (cancel & ~rebook) | (business & bit(B_UNAVAIL) & ~bit(B_CONFIRM) & (at - time_at <= 2))
    book = when_book | accept_book | rebook | confirm_book
    event = np.where(book, 1, np.where(unbook, 0, -1))
    last_event = last(event >= 0)
    booked = np.where(last_event >= 0, event[np.maximum(last_event, 0)], 0) == 1

    lead = anywhere(lead_event)
    scheduled = np.zeros(len(count), bool)
    ends = starts_all + count - 1
    scheduled[has_turns] = booked[ends[has_turns]]
    converted = anywhere(converted_here | (business & bit(B_PAID) & lead_before))
    confirmed = anywhere(confirm & booked)
    prospect = anywhere(intent & ~bit(C_EXIST) & ~bit(C_RESCHED))
    existing = anywhere(contact & bit(C_EXIST))
    not_prospect = existing & ~(confirmed & prospect)
    lead, scheduled, converted = lead & ~not_prospect, scheduled & ~not_prospect, converted & ~not_prospect
    scheduled |= converted
    lead |= scheduled

    seen = {name: anywhere(contact & bit(flag)) for name, flag in (("buy", C_BUY), ("price", C_PRICE),
                                                                  ("visit", C_VISIT), ("declined", C_DECL))}
    messages = np.zeros(len(count), np.int64)
    messages[has_turns] = np.add.reduceat(texts.astype(np.int64), starts)
    w = rules.weights
    engagement = np.minimum(np.maximum(messages - 1, 0) * w["per_extra_message"], w["max_engagement"])
    score = (seen["buy"] * w["buy_intent"] + seen["price"] * w["price_intent"] + seen["visit"] * w["visit_intent"]
             + scheduled * w["visit_scheduled"] + converted * w["conversion"] + seen["declined"] * w["decline"]
             + np.where(messages > 0, engagement, 0))
    out.update(is_lead=lead, visit_scheduled=scheduled, crm_converted=converted,
               score=np.clip(score, 0, 100).astype(np.int64), contact_messages=messages)
