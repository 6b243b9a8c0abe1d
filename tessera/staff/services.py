"""Changes to saved queues: create, rename or re-filter, delete, share.

Who may do what is asked of tickets.policy (can_save_queues, can_edit_saved_queue,
can_share_saved_queues): the owner (or a superuser) edits a queue; only a superuser shares one
with departments and teams. Each service takes the acting user first and raises
PermissionDenied or ValidationError with a sentence the page can show.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from tessera.accounts.models import Agent, Department, Team, User
from tessera.tickets import policy, selectors

from .filters import view_keys
from .models import SavedQueue

MAX_NAME = cast(int, SavedQueue._meta.get_field("name").max_length)  # a CharField always has one


def _agent_of(actor: User) -> Agent:
    if not policy.can_save_queues(actor):
        raise PermissionDenied(_("Only agents can save queues."))
    return actor.agent


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": [_("Give the queue a name.")]})
    if len(name) > MAX_NAME:
        raise ValidationError({"name": [_("Keep the name under %(n)d characters.") % {"n": MAX_NAME}]})
    return name


def _clean_params(params: dict[str, Any]) -> dict[str, Any]:
    """Keep only what a queue page understands: the filter, sort and column parameters and
    the base system queue. Values are strings or lists of strings."""
    clean: dict[str, Any] = {}
    for key in (*view_keys(params), "queue"):
        value = params.get(key)
        if value in (None, "", []):
            continue
        if isinstance(value, list | tuple):
            clean[key] = [str(v)[:200] for v in value][:50]
        else:
            clean[key] = str(value)[:1000]
    if clean.get("queue") not in selectors.QUEUE_SLUGS:
        clean["queue"] = "all"
    return clean


def _name_taken(owner_id: int, name: str, exclude: int | None = None) -> bool:
    qs = SavedQueue.objects.filter(owner_id=owner_id, name__iexact=name)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.exists()


def _taken_error(name: str) -> ValidationError:
    return ValidationError({"name": [_("You already have a queue called “%(name)s”.") % {"name": name}]})


@transaction.atomic
def create_saved_queue(actor: User, *, name: str, params: dict[str, Any]) -> SavedQueue:
    """Save the current filters, sort and columns as a personal queue, listed last."""
    agent = _agent_of(actor)
    name = _clean_name(name)
    if _name_taken(agent.pk, name):
        raise _taken_error(name)
    last = SavedQueue.objects.filter(owner=agent).aggregate(m=Max("position"))["m"]
    return SavedQueue.objects.create(
        owner=agent, name=name, params=_clean_params(params), position=0 if last is None else last + 1
    )


@transaction.atomic
def update_saved_queue(
    actor: User, saved: SavedQueue, *, name: str | None = None, params: dict[str, Any] | None = None
) -> SavedQueue:
    """Rename a saved queue and/or replace its filters; the owner or a superuser may."""
    if not policy.can_edit_saved_queue(actor, saved):
        raise PermissionDenied(_("Only the person who saved this queue can change it."))
    saved = SavedQueue.objects.select_for_update().get(pk=saved.pk)
    if name is not None:
        name = _clean_name(name)
        if _name_taken(saved.owner_id, name, exclude=saved.pk):
            raise _taken_error(name)
        saved.name = name
    if params is not None:
        saved.params = _clean_params(params)
    saved.save()
    return saved


@transaction.atomic
def delete_saved_queue(actor: User, saved: SavedQueue) -> None:
    if not policy.can_edit_saved_queue(actor, saved):
        raise PermissionDenied(_("Only the person who saved this queue can delete it."))
    SavedQueue.objects.filter(pk=saved.pk).delete()


@transaction.atomic
def share_saved_queue(
    actor: User, saved: SavedQueue, *, departments: Iterable[Department], teams: Iterable[Team]
) -> SavedQueue:
    """Share a saved queue with the agents of these departments and teams (replacing any
    earlier sharing; empty lists stop sharing it). Administrators only."""
    if not policy.can_share_saved_queues(actor):
        raise PermissionDenied(_("Only administrators can share queues."))
    saved = SavedQueue.objects.select_for_update().get(pk=saved.pk)
    saved.shared_with_departments.set(list(departments))
    saved.shared_with_teams.set(list(teams))
    return saved
