"""A queue filtered on one choice item is read from the item's answers, newest activity first
(customfields.sortkey, QueueFilter._driving): the same rows, order and paging as the semi-join,
and the ticket's update time copied onto its answers on every path that changes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tessera import process_memo
from tessera.customfields import sortkey
from tessera.customfields.models import ChoiceItem, FieldValue
from tessera.staff.filters import Cursor, QueueFilter
from tessera.tickets import selectors
from tessera.tickets import services as ticket_services
from tessera.tickets.models import Referral, Ticket
from tessera.tickets.services import conversation, status

pytestmark = pytest.mark.django_db


def _open(desk: Any, subject: str, topic: Any = None, **values: Any) -> Ticket:
    values.setdefault("asset_tag", "AB-0001")
    return ticket_services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject=subject,
        message="Rack 4.",
        topic=topic or desk.outage,
        custom_values=values,
    )


def _copies_match() -> None:
    """Every answer with a ticket and an item holds its ticket's updated_at; no other row has one."""
    for value in FieldValue.objects.select_related("ticket"):
        if value.ticket_id is not None and value.item_id is not None:
            assert value.ticket_updated_at == value.ticket.updated_at, value.pk
        else:
            assert value.ticket_updated_at is None, value.pk


@pytest.fixture
def busy(desk, forms):
    """Thirty-odd outage tickets (Jane's department) answering Office and Symptoms, some updated
    after their answers were stored, several sharing one updated_at, one in a department Jane
    cannot see, and answers on a retired field and a retired item."""
    from tessera.customfields.models import Field, FieldType

    paris = ChoiceItem.objects.create(choice_list=forms.offices, label="Paris", order=3)
    old_site = Field.objects.create(
        form=forms.hardware, key="old_site", label="Old site", type=FieldType.LIST, choice_list=forms.other_list
    )
    tickets = []
    for n in range(30):
        office = [forms.berlin, forms.lisbon, forms.berlin, paris][n % 4]
        symptoms = [[forms.noise.pk], [forms.smoke.pk], [forms.noise.pk, forms.smoke.pk], []][n % 3]
        tickets.append(_open(desk, f"T{n:02}", office=office.pk, symptoms=symptoms, old_site=forms.red.pk))
    hidden = _open(desk, "Hidden Berlin", topic=desk.general)  # Support: not Jane's
    # In Support too, but referred to Jane: she follows it (the visibility rule's referral branch).
    referred = _open(desk, "Referred Berlin", topic=desk.general)
    Referral.objects.create(ticket=referred, agent=desk.jane)
    for outside in (hidden, referred):  # the general topic does not ask the hardware form: answered in place
        FieldValue.objects.create(field=forms.office, ticket=outside, item=forms.berlin)
    # Ties: five tickets share one instant (ids break the tie), set in bulk after the answers.
    tie = timezone.now() - timedelta(days=3)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[3:8]]).update(updated_at=tie)
    # Activity after the answers: a reply, a status change, a bulk update of older ones.
    conversation.reply(desk.jane.user, tickets[10], message="On it.")
    status.set_status(desk.jane.user, tickets[11], status=desk.pending)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[12:20]]).update(updated_at=timezone.now() - timedelta(days=9))
    # Retire Paris and the old field: their answers stay and can still be filtered by URL.
    paris.is_active = False
    paris.save()
    old_site.retired_at = timezone.now()
    old_site.save()
    process_memo.forget_all()
    return {"tickets": tickets, "hidden": hidden, "referred": referred, "paris": paris}


def _walk(desk: Any, slug: str, params: dict[str, Any], *, drive: bool, size: int = 4) -> list[list[int]]:
    """Every page of a queue, following the older-rows cursor as the view does."""
    pages: list[list[int]] = []
    qf = QueueFilter.from_params(params)
    while True:
        if not drive:
            qf._driving = lambda: None  # type: ignore[method-assign]  # the semi-join, as before
        rows, more = selectors.queue_page(desk.jane, slug, query=qf, size=size)
        pages.append([t.pk for t in rows])
        if not more:
            return pages
        value, pk = qf.cursor_of(rows[-1])
        qf = QueueFilter.from_params({**params, "before": value, "before_id": pk})


CASES = [
    {"cf_office": "berlin"},
    {"cf_office": "paris"},  # retired item
    {"cf_office": "lisbon", "sort": "updated"},  # oldest first
    {"cf_symptoms": "smoke"},  # one item of a multiple-choice field
    {"cf_office": "berlin", "cf_symptoms": "noise"},  # a driving filter and a semi-join
    {"cf_old_site": "red"},  # retired field
    {"cf_office": "berlin", "priority": "sev_b", "state": "open"},
]


def _params(case: dict[str, str], forms: Any, busy: Any, desk: Any) -> dict[str, Any]:
    items = {"berlin": forms.berlin, "lisbon": forms.lisbon, "paris": busy["paris"]}
    items |= {"smoke": forms.smoke, "noise": forms.noise, "red": forms.red}
    out: dict[str, Any] = {}
    for key, value in case.items():
        if key.startswith("cf_"):
            out[key] = str(items[value].pk)
        elif key == "priority":
            out[key] = str(desk.sev_b.pk)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("slug", ["all", "open"])
def test_a_queue_read_from_the_items_answers_pages_exactly_like_the_semi_join(desk, forms, busy, case, slug):
    params = _params(case, forms, busy, desk)
    qf = QueueFilter.from_params(params)
    assert not qf.errors
    if "sort" not in case:
        assert qf._driving() is not None  # the case exercises the join, not the old plan twice
    driven = _walk(desk, slug, params, drive=True)
    semi = _walk(desk, slug, params, drive=False)
    assert driven == semi
    seen = [pk for page in driven for pk in page]
    assert len(seen) == len(set(seen))  # no ticket twice
    assert busy["hidden"].pk not in seen
    if case == {"cf_office": "berlin"}:
        assert (busy["referred"].pk in seen) == (slug == "all")  # "open" is Jane's departments only
    # The capped count a queue shows agrees with the rows paged through.
    count = selectors.capped_counts({"q": qf.apply(selectors.queue_tickets(desk.jane, slug))})["q"]
    assert count == len(seen)
    if case == {"cf_office": "berlin"} and slug == "all":
        assert len(seen) >= 10 and len(driven) >= 3  # enough rows to page, ties included


def test_new_arrivals_above_a_filtered_page_are_the_same_rows_either_way(desk, forms, busy):
    params = {"cf_office": str(forms.berlin.pk)}
    qf = QueueFilter.from_params(params)
    rows, _more = selectors.queue_page(desk.jane, "all", query=qf, size=3)
    first = rows[0]
    _open(desk, "Newer Berlin", office=forms.berlin.pk)
    conversation.reply(desk.jane.user, busy["tickets"][0], message="Bumped.")
    cursor = Cursor(first.updated_at, first.pk)

    class Newer:
        def __init__(self, drive: bool) -> None:
            self.qf = QueueFilter.from_params(params)
            if not drive:
                self.qf._driving = lambda: None  # type: ignore[method-assign]

        def page(self, qs: Any) -> Any:
            return self.qf.newer(qs, cursor)

    driven = [t.pk for t in selectors.queue_page(desk.jane, "all", query=Newer(True))[0]]
    semi = [t.pk for t in selectors.queue_page(desk.jane, "all", query=Newer(False))[0]]
    assert driven == semi and len(driven) >= 1


def test_only_a_single_item_sorted_by_update_is_read_from_the_answers(desk, forms):
    from tessera.tickets.models import Ticket as T

    def sql(params: dict[str, Any]) -> str:
        return str(QueueFilter.from_params(params).page(T.objects.all()).query)

    one = sql({"cf_office": str(forms.berlin.pk)})
    assert "ticket_updated_at" in one and "EXISTS" not in one.upper()
    both = sql({"cf_office": f"{forms.berlin.pk},{forms.lisbon.pk}"})
    assert "EXISTS" in both.upper() and "ticket_updated_at" not in both
    by_number = sql({"cf_office": str(forms.berlin.pk), "sort": "-number"})
    assert "EXISTS" in by_number.upper() and "ticket_updated_at" not in by_number


def test_every_way_a_ticket_changes_moves_the_copy_on_its_answers(desk, forms):
    from tessera.customfields import services

    ticket = _open(desk, "Moving", office=forms.berlin.pk, symptoms=[forms.noise.pk, forms.smoke.pk])
    other = _open(desk, "Other", office=forms.lisbon.pk)
    _copies_match()
    conversation.reply(desk.jane.user, ticket, message="Looking.")
    _copies_match()
    status.set_status(desk.jane.user, ticket, status=desk.pending)
    _copies_match()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() - timedelta(days=40))  # a bulk path
    _copies_match()
    # An answer changed after the ticket moved, and a stale instance saved over a newer copy.
    stale = FieldValue.objects.get(ticket=ticket, item=forms.berlin)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() + timedelta(minutes=5))
    stale.save()
    _copies_match()
    services.save_values(desk.jane.user, ticket, {"cf_office": forms.lisbon, "cf_symptoms": [forms.smoke]})
    _copies_match()
    # An answer moved to another ticket (as a merge might) takes that ticket's time.
    FieldValue.objects.filter(ticket=ticket, item=forms.smoke).update(ticket=other)
    _copies_match()
    # A person's choice answer carries no ticket time, whatever is sent.
    from tessera.customfields.models import Field, FieldType, Form, Target

    people = Form.objects.create(title="Where you sit", target=Target.USER)
    seat = Field.objects.create(form=people, key="seat", label="Seat", type=FieldType.LIST, choice_list=forms.offices)
    person = FieldValue.objects.create(field=seat, user=desk.ken, item=forms.berlin, ticket_updated_at=timezone.now())
    person.refresh_from_db()
    assert person.ticket_updated_at is None
    _copies_match()


def test_the_triggers_come_back_and_the_copies_are_redone_after_a_migrate(desk, forms):
    ticket = _open(desk, "Kept", office=forms.berlin.pk)
    sortkey.uninstall(connection)
    assert sortkey.installed(connection) == set()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() - timedelta(days=2))
    assert (
        FieldValue.objects.get(ticket=ticket, item=forms.berlin).ticket_updated_at
        != Ticket.objects.get(pk=ticket.pk).updated_at
    )  # nothing kept it while the triggers were gone
    assert sortkey.ensure(connection) is True
    assert sortkey.installed(connection) == sortkey.expected(connection)
    _copies_match()
    assert sortkey.ensure(connection) is False  # all there: nothing done


@pytest.mark.django_db(transaction=True)
def test_the_migration_applies_to_a_desk_with_answers_and_fills_the_copies(desk, forms):
    berlin = _open(desk, "Before the upgrade", office=forms.berlin.pk, symptoms=[forms.noise.pk])
    call_command("migrate", "customfields", "0001", verbosity=0)
    try:
        with connection.cursor() as cursor:
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, FieldValue._meta.db_table)
            ]
        assert "ticket_updated_at" not in columns
        assert sortkey.installed(connection) == set()
        # Written while the column did not exist: a ticket update the triggers never saw.
        Ticket.objects.filter(pk=berlin.pk).update(updated_at=timezone.now() - timedelta(days=5))
    finally:
        call_command("migrate", verbosity=0)
        process_memo.forget_all()
    assert sortkey.installed(connection) == sortkey.expected(connection)
    _copies_match()
    rows, _more = selectors.queue_page(
        desk.jane, "all", query=QueueFilter.from_params({"cf_office": str(forms.berlin.pk)})
    )
    assert [t.pk for t in rows] == [berlin.pk]
