"""Reads of the ratings for the pages that show them: two queries whatever the count."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count

from tessera.accounts.models import Agent

from .models import Rating

LATEST = 5


@dataclass(frozen=True)
class AgentSummary:
    count: int
    average: float | None
    latest: list[Rating]


def agent_summary(agent: Agent, latest: int = LATEST) -> AgentSummary:
    totals = Rating.objects.filter(agent_id=agent.pk).aggregate(count=Count("pk"), average=Avg("score"))
    recent = list(
        Rating.objects.filter(agent_id=agent.pk).select_related("ticket").order_by("-rated_at", "-pk")[:latest]
    )
    average = totals["average"]
    return AgentSummary(
        count=totals["count"], average=round(float(average), 1) if average is not None else None, latest=recent
    )
