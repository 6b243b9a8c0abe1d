"""The people directory as CSV files: end users and organisations, read in batches and written a
line at a time so a large directory streams instead of sitting in memory. Every cell goes
through `tessera.csv_cells` (formula injection defused)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from tessera import csv_cells

from .directory_import import EXPORT_HEADERS
from .models import Organization, User

BATCH = 2000


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def end_users() -> Iterator[User]:
    """Every end user (agents and administrators are not in the directory), by address."""
    return (
        User.objects.filter(agent__isnull=True, is_staff=False, is_superuser=False)
        .select_related("organization")
        .only("email", "name", "organization__name", "phone", "time_zone", "is_active", "date_joined")
        .order_by("email")
        .iterator(chunk_size=BATCH)
    )


def user_lines() -> Iterator[str]:
    # The columns the import reads back (in any shipped language), then two it leaves alone.
    header = [_(word) for word in EXPORT_HEADERS.values()] + [_("active"), _("joined (UTC)")]
    rows = (
        [
            u.email,
            u.name,
            u.organization.name if u.organization else "",
            u.phone,
            u.time_zone,
            _("yes") if u.is_active else _("no"),
            _utc(u.date_joined),
        ]
        for u in end_users()
    )
    return csv_cells.lines(header, rows)


def organization_lines() -> Iterator[str]:
    header = [
        _("name"),
        _("email domains"),
        _("account manager"),
        _("share tickets among members"),
        _("members"),
        _("created (UTC)"),
    ]
    orgs = (
        Organization.objects.select_related("account_manager__user")
        .prefetch_related("domains")
        .annotate(members=Count("users", filter=Q(users__is_active=True)))
        .order_by("name")
        .iterator(chunk_size=BATCH)
    )
    rows = (
        [
            o.name,
            " ".join(sorted(d.domain for d in o.domains.all())),
            o.account_manager.user.email if o.account_manager else "",
            _("yes") if o.share_tickets else _("no"),
            o.members,
            _utc(o.created_at),
        ]
        for o in orgs
    )
    return csv_cells.lines(header, rows)
