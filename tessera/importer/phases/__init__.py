"""The import's phases, in the order their foreign keys need."""

from __future__ import annotations

from collections.abc import Callable

from ..runner import Context
from . import configuration, custom_fields, knowledge_base, pending, people, schedules, tasks, threads, tickets

PHASES: list[tuple[str, Callable[[Context], None]]] = [
    ("departments", configuration.departments),
    ("roles", configuration.roles),
    ("agents", people.agents),
    ("department managers", configuration.department_managers),
    ("teams", people.teams),
    ("priorities", configuration.priorities),
    ("statuses", configuration.statuses),
    ("business hours and holidays", schedules.schedules),
    ("SLA plans", configuration.sla_plans),
    ("help topics", configuration.help_topics),
    ("custom lists", custom_fields.lists),
    ("custom forms", custom_fields.forms),
    ("canned responses", configuration.canned_responses),
    ("ban list", configuration.ban_list),
    ("organisations", people.organizations),
    ("users", people.users),
    ("tickets", tickets.tickets),
    ("merges and links", tickets.relations),
    ("tasks", tasks.tasks),
    ("custom field answers", custom_fields.answers),
    ("collaborators", tickets.collaborators),
    ("referrals", tickets.referrals),
    ("thread entries", threads.entries),
    ("events", threads.events),
    ("knowledge base", knowledge_base.knowledge_base),
    ("not imported yet", pending.pending),
]
