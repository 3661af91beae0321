"""The columns the load needs from vw_conversations_analytics_final, and the target's columns.

This module is the one place that names them: the contract check, the extract's SELECT list,
the transform, the staging table and the upsert all read from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatwoot_etl import pgtypes

SOURCE_VIEW = "vw_conversations_analytics_final"

# tenants.timezone's default: the calendar fields are computed in the tenant's zone.
DEFAULT_TIMEZONE = "America/Sao_Paulo"
# tenants.status values, and the ones that get a sync (and a DAG).
TENANT_STATUSES = ("active", "suspended", "cancelled", "trial")
SYNCED_STATUSES = ("active", "trial")

# Source column -> its PostgreSQL type (as format_type() spells it). Every one is required.
SOURCE_COLUMNS: dict[str, str] = {
    # identity
    "conversation_id": "integer",
    "display_id": "integer",
    "conversation_uuid": "uuid",
    "account_id": "integer",
    "inbox_id": "integer",
    "contact_id": "bigint",
    "assignee_id": "integer",
    "team_id": "bigint",
    "campaign_id": "bigint",
    # state
    "status": "integer",
    "status_label_pt": "text",
    "priority": "integer",
    "priority_label": "text",
    "priority_score": "integer",
    "snoozed_until": "timestamp without time zone",
    # names
    "account_name": "text",
    "inbox_name": "text",
    "inbox_channel_type": "text",
    "inbox_timezone": "text",
    "contact_name": "text",
    "contact_email": "text",
    "contact_phone": "text",
    "contact_identifier": "text",
    "assignee_name": "text",
    "assignee_email": "text",
    "team_name": "text",
    # timestamps (naive UTC)
    "conversation_created_at": "timestamp without time zone",
    "conversation_updated_at": "timestamp without time zone",
    "last_activity_at": "timestamp without time zone",
    "first_reply_created_at": "timestamp without time zone",
    "waiting_since": "timestamp without time zone",
    "contact_last_seen_at": "timestamp without time zone",
    "agent_last_seen_at": "timestamp without time zone",
    # messages
    "message_compiled": "jsonb",
    "client_sender_id": "bigint",
    "client_phone": "text",
    "t_messages": "bigint",
    "total_messages_public": "bigint",
    "total_messages_private": "bigint",
    "mc_first_message_at": "timestamp without time zone",
    "mc_last_message_at": "timestamp without time zone",
    # CSAT
    "csat_response_id": "bigint",
    "csat_rating": "integer",
    "csat_feedback": "text",
    "csat_created_at": "timestamp without time zone",
    "csat_nps_category": "text",
    "csat_sentiment_category": "text",
    "has_written_feedback": "boolean",
    "has_detailed_feedback": "boolean",
    "has_csat": "boolean",
    # metrics
    "first_response_time_seconds": "integer",
    "first_response_time_minutes": "numeric",
    "resolution_time_seconds": "integer",
    "is_assigned": "boolean",
    "has_team": "boolean",
    "is_resolved": "boolean",
    "is_open": "boolean",
    "is_pending": "boolean",
    "is_snoozed": "boolean",
    "has_contact": "boolean",
    "is_waiting": "boolean",
    "has_priority": "boolean",
    "is_high_priority": "boolean",
    "is_from_campaign": "boolean",
    "is_fast_response": "boolean",
    "is_slow_response": "boolean",
    "is_fast_resolution": "boolean",
    "is_waiting_long": "boolean",
    "contact_has_seen": "boolean",
    "agent_has_seen": "boolean",
    # message statistics
    "user_messages_count": "bigint",
    "contact_messages_count": "bigint",
    "private_notes_count": "bigint",
    "first_message_text": "text",
    "last_message_text": "text",
    "first_message_sender_type": "text",
    "last_message_sender_type": "text",
    "conversation_duration_seconds": "integer",
    "avg_time_between_messages_seconds": "numeric",
    "avg_message_length": "integer",
    "max_message_length": "integer",
    "has_user_messages": "boolean",
    "has_contact_messages": "boolean",
    "has_private_notes": "boolean",
    "has_contact_reply": "boolean",
    "is_short_conversation": "boolean",
    "is_long_conversation": "boolean",
    "user_message_ratio": "numeric",
    "contact_message_ratio": "numeric",
    "has_human_intervention": "boolean",
    "is_bot_resolved": "boolean",
}

# View columns the load deliberately does not read: the calendar is recomputed in the
# tenant's time zone, and the "relative to now" columns change without updated_at moving.
IGNORED_SOURCE_COLUMNS: dict[str, str] = {
    "conversation_date": "date",
    "conversation_year": "integer",
    "conversation_month": "integer",
    "conversation_day": "integer",
    "conversation_day_of_week": "integer",
    "conversation_hour": "integer",
    "conversation_minute": "integer",
    "conversation_week_of_year": "integer",
    "conversation_quarter": "integer",
    "conversation_day_name": "text",
    "conversation_month_name": "text",
    "conversation_period": "text",
    "is_weekday": "boolean",
    "is_weekend": "boolean",
    "is_business_hours": "boolean",
    "is_night_time": "boolean",
    "days_since_creation": "integer",
    "is_today": "boolean",
    "is_yesterday": "boolean",
    "is_this_week": "boolean",
    "is_this_month": "boolean",
    "is_this_year": "boolean",
    "conversation_date_formatted": "text",
    "conversation_datetime_formatted": "text",
    "conversation_year_month": "text",
    "conversation_year_week": "text",
    "waiting_time_seconds": "integer",
}

# Calendar fields the transform computes in the tenant's time zone -> target type.
CALENDAR_COLUMNS: dict[str, str] = {
    "conversation_timezone": "character varying(64)",
    "conversation_date": "date",
    "conversation_year": "integer",
    "conversation_month": "integer",
    "conversation_day": "integer",
    "conversation_day_of_week": "integer",
    "conversation_hour": "integer",
    "conversation_minute": "integer",
    "conversation_week_of_year": "integer",
    "conversation_quarter": "integer",
    "conversation_day_name": "character varying(20)",
    "conversation_month_name": "character varying(20)",
    "conversation_period": "character varying(20)",
    "is_weekday": "boolean",
    "is_weekend": "boolean",
    "is_business_hours": "boolean",
    "is_night_time": "boolean",
    "conversation_date_formatted": "character varying(20)",
    "conversation_datetime_formatted": "character varying(30)",
    "conversation_year_month": "character varying(10)",
    "conversation_year_week": "character varying(10)",
}

# Fields relative to the moment the row is written, in the tenant's zone ("as of the row's last
# write"). Written with every insert or update, but never a reason to rewrite a row by themselves:
# a re-read conversation that did not change stays unchanged.
RELATIVE_COLUMNS: dict[str, str] = {
    "waiting_time_seconds": "integer",
    "days_since_creation": "integer",
    "is_today": "boolean",
    "is_yesterday": "boolean",
    "is_this_week": "boolean",
    "is_this_month": "boolean",
    "is_this_year": "boolean",
}

# The lead rules' vertical packs (sync/leads/packs/<name>.json); a tenant without one uses generic.
LEAD_PACKS = ("generic", "fitness", "real_estate", "health", "education")

# Lead signals the classifier computes from the contact's own messages -> target type.
LEAD_LABELS = ("Alto", "Médio", "Baixo", "N/A")  # N/A: no message of the contact to judge
LEAD_COLUMNS: dict[str, str] = {
    "is_lead": "boolean",
    "visit_scheduled": "boolean",
    "crm_converted": "boolean",
    "ai_probability_label": "character varying(50)",
    "ai_probability_score": "numeric(5,2)",  # 0-100
}

KEY_COLUMNS = ("tenant_id", "conversation_id")
WATERMARK_COLUMN = "conversation_updated_at"
BOOKKEEPING_COLUMNS = ("id", "etl_inserted_at", "etl_updated_at")

# The analytics table's type of each loaded source column where it differs from the view's: the
# owner's table is the contract (include/sql/analytics/tables/30_conversations_analytics.sql).
_OWNER_TYPES: dict[str, str] = {
    **{name: "timestamp without time zone" for name, kind in SOURCE_COLUMNS.items() if kind.startswith("timestamp")},
    **{name: "integer" for name, kind in SOURCE_COLUMNS.items() if kind == "bigint"},
    "status_label_pt": "character varying(50)",
    "priority_label": "character varying(20)",
    **dict.fromkeys(
        ("account_name", "inbox_name", "contact_name", "contact_email", "contact_identifier",
         "assignee_name", "assignee_email", "team_name"),
        "character varying(255)",
    ),
    **dict.fromkeys(
        ("inbox_channel_type", "inbox_timezone", "contact_phone", "client_phone", "csat_nps_category",
         "csat_sentiment_category", "first_message_sender_type", "last_message_sender_type"),
        "character varying(50)",
    ),
    "first_response_time_minutes": "numeric(10,1)",
    "avg_time_between_messages_seconds": "numeric(10,1)",
    "user_message_ratio": "numeric(5,2)",
    "contact_message_ratio": "numeric(5,2)",
}

# Target column -> type, in load order (without the bookkeeping columns the database fills).
TARGET_COLUMNS: dict[str, str] = {
    "tenant_id": "integer",
    **{name: _OWNER_TYPES.get(name, kind) for name, kind in SOURCE_COLUMNS.items()},
    **CALENDAR_COLUMNS,
    **RELATIVE_COLUMNS,
    **LEAD_COLUMNS,
    "lead_rules_version": "character varying(40)",
}

# Source text columns whose target type is bounded; longer values are cut (and counted).
TEXT_LIMITS: dict[str, int] = {
    name: target.args[0]
    for name, kind in SOURCE_COLUMNS.items()
    if kind == "text" and (target := pgtypes.parse(TARGET_COLUMNS[name])).base == "character varying" and target.args
}


@dataclass(frozen=True)
class ContractDiff:
    """How a source relation differs from SOURCE_COLUMNS."""

    missing: tuple[str, ...]
    retyped: tuple[tuple[str, str, str], ...]  # (column, expected, found): values the load cannot take
    extra: tuple[str, ...]
    compatible: tuple[tuple[str, str, str], ...] = ()  # spelled differently, read the same

    @property
    def breaking(self) -> bool:
        return bool(self.missing or self.retyped)

    def describe(self) -> str:
        lines = [f"  - missing column {name} ({SOURCE_COLUMNS[name]})" for name in self.missing]
        lines += [f"  ~ column {name}: expected {want}, found {got} ({_why_incompatible(name, got)})"
                  for name, want, got in self.retyped]
        lines += [f"  + extra column {name} (ignored)" for name in self.extra]
        return "\n".join(lines) if lines else "  (no differences)"


def compatible(column: str, found: str) -> bool:
    """Does a source column of type `found` carry values the load reads as SOURCE_COLUMNS[column]?

    Yes when the contract's type holds them (a precision, varchar for text, a narrower integer) or
    the target column does (an integer widened to bigint still fits an owner's bigint column).
    """
    expected = SOURCE_COLUMNS[column]
    return pgtypes.holds(expected, found) or pgtypes.holds(TARGET_COLUMNS[column], found)


def _why_incompatible(column: str, found: str) -> str:
    return (f"neither the contract's {SOURCE_COLUMNS[column]} nor the target's {TARGET_COLUMNS[column]} "
            f"holds every {found} value")


def compare(found: dict[str, str]) -> ContractDiff:
    """Compare a relation's {column: format_type} with the contract: types, not spellings or order."""
    missing = tuple(name for name in SOURCE_COLUMNS if name not in found)
    present = [(name, want, found[name]) for name, want in SOURCE_COLUMNS.items() if name in found]
    retyped = tuple(item for item in present if not compatible(item[0], item[2]))
    accepted = tuple(item for item in present
                     if item not in retyped and pgtypes.parse(item[1]) != pgtypes.parse(item[2]))
    known = SOURCE_COLUMNS.keys() | IGNORED_SOURCE_COLUMNS.keys()
    extra = tuple(sorted(name for name in found if name not in known))
    return ContractDiff(missing=missing, retyped=retyped, extra=extra, compatible=accepted)
