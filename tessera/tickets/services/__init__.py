"""Every change to a ticket happens here.

Each service takes the acting user first, asks policy.can, changes the models in
one transaction (locking the ticket row), writes timeline Events, and queues
notifications with the change (notifications.with_change) so mail only goes out for data
that is committed.

One module per feature, each matching its test file; `common` holds the steps they share.
Callers use the package (`services.reply(...)`), which re-exports every service below: a new
feature (SLA, tasks) adds its own module here and lists its services in `__all__`.
"""

from .agent_intake import AGENT_SOURCES, NewRequester, open_ticket_for_caller
from .auto_assign import assign_automatically, assign_new_ticket
from .auto_close import close_if_quiet
from .collaborators import add_collaborator, add_collaborator_by_email, copy_mail_sender, remove_collaborator
from .common import FIRST_TICKET_NUMBER, StaleTicket, default_status, next_counter_value
from .conversation import add_note, reply, signature_choice
from .desk_setup import save_priority, save_status, save_topic
from .escalation import ESCALATION_NOTICE, escalate
from .field_changes import record_field_change
from .intake import open_ticket, open_ticket_for_guest
from .intake_warnings import record_intake_warnings
from .mail_events import MAIL_EVENTS, record_mail_event
from .merge_and_link import link, merge, unlink
from .properties import TOPIC_CHANGED, set_topic
from .reopen import Posted, may_reopen, needs_follow_up, reopen_by_user, reopen_deadline, reply_or_follow_up
from .routing import assign, claim, release, transfer
from .rules_applied import TicketRefused, count_refusal, record_refusal
from .satisfaction import record_satisfaction
from .sla import pending_alerts, record_sla_alert, set_due_date, set_sla_plan
from .status import close_by_user, set_priority, set_status
from .task_events import TASK_EVENTS, record_task_event

__all__ = [
    "AGENT_SOURCES",
    "ESCALATION_NOTICE",
    "FIRST_TICKET_NUMBER",
    "MAIL_EVENTS",
    "TASK_EVENTS",
    "TOPIC_CHANGED",
    "NewRequester",
    "Posted",
    "StaleTicket",
    "TicketRefused",
    "add_collaborator",
    "add_collaborator_by_email",
    "add_note",
    "assign",
    "assign_automatically",
    "assign_new_ticket",
    "claim",
    "close_by_user",
    "close_if_quiet",
    "copy_mail_sender",
    "count_refusal",
    "default_status",
    "escalate",
    "link",
    "may_reopen",
    "merge",
    "needs_follow_up",
    "next_counter_value",
    "open_ticket",
    "open_ticket_for_caller",
    "open_ticket_for_guest",
    "pending_alerts",
    "record_field_change",
    "record_intake_warnings",
    "record_mail_event",
    "record_refusal",
    "record_satisfaction",
    "record_sla_alert",
    "record_task_event",
    "release",
    "remove_collaborator",
    "reopen_by_user",
    "reopen_deadline",
    "reply",
    "reply_or_follow_up",
    "save_priority",
    "save_status",
    "save_topic",
    "set_due_date",
    "set_priority",
    "set_sla_plan",
    "set_status",
    "set_topic",
    "signature_choice",
    "transfer",
    "unlink",
]
