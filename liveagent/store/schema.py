"""SQLAlchemy Core tables of the live-agent service.

The tables are the Python-side description used by queries; the database itself is created only by
the Alembic migrations (`migrations/versions`), which a test compares against this module.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Optional

import sqlalchemy as sa

from liveagent.store.state import ConversationState

ROLES = ("agent", "supervisor", "editor")
PRESENCES = ("online", "away", "offline")
SENDERS = ("visitor", "bot", "agent", "system")
KINDS = ("text", "status", "note")  # note: internal, never shown to the visitor
STATES = tuple(state.value for state in ConversationState)
# The time zone whose calendar days the insights count in (the service hours' zone, settings.ServiceHours).
REPORTING_ZONE = "Europe/Helsinki"
DEFAULT_CAPACITY = 3  # chats an agent has at once unless a supervisor sets another number

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.types.TypeDecorator):
    """`DateTime(timezone=True)` that always binds UTC and always returns aware UTC datetimes.

    SQLite has no time zones: values are stored as naive UTC text (which also sorts correctly) and
    get their UTC tzinfo back on load, so both backends hand out the same kind of value.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[dt.datetime], dialect: Any) -> Optional[dt.datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Optional[dt.datetime], dialect: Any) -> Optional[dt.datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class JSONText(sa.types.TypeDecorator):
    """JSON kept as plain text, so SQLite and PostgreSQL store the same thing."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Optional[str]:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def process_result_value(self, value: Optional[str], dialect: Any) -> Any:
        return None if value is None else json.loads(value)


def _one_of(column: str, values: tuple) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=column)


agents = sa.Table(
    "agents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(64), nullable=False),  # first name shown to visitors
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("presence", sa.String(16), nullable=False, server_default="offline"),
    sa.Column("last_seen_at", UTCDateTime, nullable=True),
    # False: deactivated; cannot log in, and deactivating ended every session (docs/security.md)
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    # automatic assignment (liveagent/store/assignment.py): how many chats at once, set by a supervisor
    sa.Column("capacity", sa.Integer, nullable=False, server_default=str(DEFAULT_CAPACITY)),
    sa.Column("missed_in_row", sa.Integer, nullable=False, server_default="0"),  # response-time limits missed
    sa.Column("last_assigned_at", UTCDateTime, nullable=True),  # when a chat last came to them (ties: longest idle)
    _one_of("role", ROLES),
    _one_of("presence", PRESENCES),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),  # the visitor's session id (Rasa sender id)
    sa.Column("state", sa.String(16), nullable=False, server_default="bot"),
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True, index=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),  # optimistic locking
    sa.Column("escalation_reason", sa.String(64), nullable=True),
    sa.Column("handoff", JSONText, nullable=True),  # the handoff summary sent by the bot
    sa.Column("customer_id", sa.String(64), nullable=True),  # only when the bot verified the token
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("waiting_since", UTCDateTime, nullable=True),
    sa.Column("last_visitor_message_at", UTCDateTime, nullable=True),
    sa.Column("last_agent_message_at", UTCDateTime, nullable=True),
    sa.Column("rating", sa.Integer, nullable=True),
    sa.Column("harvested_at", UTCDateTime, nullable=True),  # when its missed messages were last collected
    # the queue (liveagent/store/assignment.py): higher priority first, then waiting_since
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("queued_at", UTCDateTime, nullable=True),  # when it last joined the queue from the bot
    sa.Column("assigned_at", UTCDateTime, nullable=True),  # when its holder got it (the response-time limit)
    sa.Column("missed_by", sa.Integer, nullable=True),  # the agent who last let its response time run out
    # insights (docs/metrics.md): the day the visitor first wrote, in REPORTING_ZONE; the first escalation
    # (when, why) and the first claim by an agent; what Rasa's tracker said at the last harvest: the topic
    # the visitor came with, messages the bot handled, of them fallbacks
    sa.Column("started_on", sa.Date, nullable=True),
    sa.Column("first_escalated_at", UTCDateTime, nullable=True),
    sa.Column("first_escalation_reason", sa.String(64), nullable=True),
    sa.Column("first_claimed_at", UTCDateTime, nullable=True),
    # the claim or automatic assignment that began the current assignment (a transfer keeps it, unlike
    # assigned_at): where the handle time starts
    sa.Column("assignment_started_at", UTCDateTime, nullable=True),
    sa.Column("topic", sa.String(128), nullable=True),
    sa.Column("bot_turns", sa.Integer, nullable=True),
    sa.Column("fallback_turns", sa.Integer, nullable=True),
    sa.Column("rating_comment", sa.Text, nullable=True),  # the visitor's words with the rating (optional)
    _one_of("state", STATES),
    sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
    sa.Index("ix_conversations_state_waiting_since", "state", "waiting_since"),
    sa.Index("ix_conversations_updated_at", "updated_at"),  # retention
    sa.Index("ix_conversations_started_on", "started_on"),  # insights by period
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # the global order
    sa.Column("conversation_id", sa.String(128), sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("sender", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("payload", JSONText, nullable=True),  # buttons etc.
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # a bot message: the label of the visitor message it answered ("faq/login", an intent) and the model
    # that answered (rasa_runtime/answer_labels.py); the visitors' feedback counts by them
    sa.Column("topic", sa.String(128), nullable=True),
    sa.Column("model_id", sa.String(128), nullable=True),
    _one_of("sender", SENDERS),
    _one_of("kind", KINDS),
    sa.Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    # editors' topic list: the bot's answers by topic in the last 30 days
    sa.Index("ix_messages_answers", "created_at",
             postgresql_where=sa.text("topic IS NOT NULL"), sqlite_where=sa.text("topic IS NOT NULL")),
    # insights: an agent's first reply after a claim (docs/metrics.md, first response time)
    sa.Index("ix_messages_agent_replies", "conversation_id", "created_at",
             postgresql_where=sa.text("sender = 'agent' AND kind = 'text'"),
             sqlite_where=sa.text("sender = 'agent' AND kind = 'text'")),
)

conversation_events = sa.Table(
    "conversation_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(128), sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("transition", sa.String(32), nullable=False),
    sa.Column("from_state", sa.String(16), nullable=False),
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("reason", sa.String(64), nullable=True),  # escalate: why the bot handed over (HandoffReason)
    # leaving the queue: when the wait began; leaving an agent: when the assignment began (its claim)
    sa.Column("span_started_at", UTCDateTime, nullable=True),
    sa.Index("ix_conversation_events_conversation_id_id", "conversation_id", "id"),
)

# "Oliko vastauksesta apua?" (docs/metrics.md): the visitor's latest yes or no on one bot answer, with
# the answer's topic and model and the conversation's first day copied when it was given (the period's
# figures read neither messages nor conversations: one index range)
answer_feedback = sa.Table(
    "answer_feedback",
    metadata,
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
    sa.Column("conversation_id", sa.String(128), sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("helpful", sa.Boolean, nullable=False),
    sa.Column("topic", sa.String(128), nullable=True),
    sa.Column("model_id", sa.String(128), nullable=True),
    sa.Column("started_on", sa.Date, nullable=False),  # the conversation's (conversations.started_on)
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_answer_feedback_conversation_id", "conversation_id"),
    sa.Index("ix_answer_feedback_started_on", "started_on", "topic", "helpful"),  # covers the period's figure
)

read_marks = sa.Table(
    "read_marks",
    metadata,
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), primary_key=True),
    sa.Column("conversation_id", sa.String(128), sa.ForeignKey("conversations.id"), primary_key=True),
    sa.Column("last_read_message_id", sa.Integer, nullable=False),
)

canned_replies = sa.Table(
    "canned_replies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(128), sa.ForeignKey("conversations.id"), nullable=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("contact", sa.String(200), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("handled_by", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
    sa.Column("handled_at", UTCDateTime, nullable=True),
    sa.Column("customer_id", sa.String(128), nullable=True),  # verified when the request was left; else NULL
    sa.Index("ix_tickets_conversation_id", "conversation_id"),  # insights: conversations with a contact request
)

# suggested answers (issue 16): the FAQ answers the console showed agents for a visitor's message, and
# which of them an agent's reply was sent from (insights' suggestions_used, the editors' handoff topics)

reply_suggestions = sa.Table(
    "reply_suggestions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(128), sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), nullable=False),  # the visitor's message
    sa.Column("topic", sa.String(128), nullable=False),  # "faq/attachments"
    sa.Column("rank", sa.Integer, nullable=False),  # 1: the bot's best answer
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("text", sa.Text, nullable=False),  # the answer as shown (the bot's, no personal data)
    sa.Column("shown_at", UTCDateTime, nullable=False),
    sa.Column("used_message_id", sa.Integer, sa.ForeignKey("messages.id"), nullable=True),  # the first reply from it
    sa.Column("used_at", UTCDateTime, nullable=True),
    sa.Column("edited", sa.Boolean, nullable=True),  # the reply's text differed from the answer
    sa.UniqueConstraint("message_id", "topic", name="uq_reply_suggestions_message_topic"),
    sa.Index("ix_reply_suggestions_conversation_id", "conversation_id"),
)

# content editing (issue 4): who changed what, what the bot missed, and each publish

MISSED_REASONS = ("fallback", "low_confidence", "escalation", "other_language")
MISSED_STATUSES = ("open", "added", "dismissed")
RUN_KINDS = ("publish", "rollback")
RUN_STATES = ("running", "succeeded", "failed")

content_changes = sa.Table(
    "content_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
    sa.Column("topic", sa.String(64), nullable=False),
    sa.Column("path", sa.String(255), nullable=False),
    sa.Column("summary", sa.String(500), nullable=False),
    sa.Column("diff", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

missed_messages = sa.Table(
    "missed_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(128), sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("event_timestamp", sa.Float, nullable=False),  # Rasa's; with the conversation a unique key
    sa.Column("text", sa.Text, nullable=False),  # personal data masked
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("guess", sa.String(128), nullable=True),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("language", sa.String(16), nullable=True),  # "sv", "en", "emoji"; NULL: Finnish (content/missed.py)
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    sa.Column("topic", sa.String(64), nullable=True),  # where an editor added it
    sa.Column("resolved_by", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
    sa.Column("resolved_at", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    _one_of("reason", MISSED_REASONS),
    _one_of("status", MISSED_STATUSES),
    sa.UniqueConstraint("conversation_id", "event_timestamp", name="uq_missed_messages_event"),
    sa.Index("ix_missed_messages_status_id", "status", "id"),
)

publish_runs = sa.Table(
    "publish_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("percent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("detail", sa.String(500), nullable=False, server_default=""),  # Finnish progress line
    sa.Column("message", sa.Text, nullable=True),  # Finnish result
    sa.Column("details", JSONText, nullable=True),  # Finnish lines: what to fix
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    _one_of("kind", RUN_KINDS),
    _one_of("state", RUN_STATES),
)

# security (docs/security.md): who did what, when and from where. No foreign keys: the log outlives
# the agents and conversations it names. Personal data in ``detail`` is masked before it is written.

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),  # the order of the log
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("actor_id", sa.Integer, nullable=True),  # None: the service itself, or an unknown username
    sa.Column("actor_username", sa.String(64), nullable=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(160), nullable=True),  # "conversation:<id>", "topic:<name>", ...
    sa.Column("detail", JSONText, nullable=True),
    sa.Column("client_address", sa.String(64), nullable=True),
    sa.Index("ix_audit_log_action_id", "action", "id"),
    sa.Index("ix_audit_log_target_id", "target", "id"),
)

# sessions that end (docs/security.md): one row per agent login, checked on every request and socket
# message; the cookie carries the session id, the table only its SHA-256.

SESSION_END_REASONS = ("logout", "password", "role", "deactivated", "idle", "expired")

agent_sessions = sa.Table(
    "agent_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # hex SHA-256 of the session id in the cookie
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),  # idle timeout
    sa.Column("expires_at", UTCDateTime, nullable=False),  # absolute lifetime
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Column("end_reason", sa.String(16), nullable=True),
    sa.Index("ix_agent_sessions_agent_id", "agent_id"),
    sa.Index("ix_agent_sessions_expires_at", "expires_at"),
)

# login backoff (liveagent/login_backoff.py): failures per (username, address), per username and per
# address, each under a keyed digest, so neither typed usernames nor addresses are stored.

login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_failure_at", UTCDateTime, nullable=True),
    sa.Column("succeeded_at", UTCDateTime, nullable=True),  # (username, address) only: a known-good address
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_login_failures_updated_at", "updated_at"),
)

TABLES = (agents, conversations, messages, conversation_events, answer_feedback, read_marks, canned_replies, tickets,
          reply_suggestions, content_changes, missed_messages, publish_runs, audit_log,
          agent_sessions, login_failures)
