"""Whatever bytes arrive, ingest keeps them and says what became of them: a ticket, a reply, an
event, or a kept rejection with its reason. It never raises (the database being down aside)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.mail import ingest as inbox
from tessera.mail.models import InboundMessage, InboundStatus


def valid_message() -> bytes:
    m = EmailMessage()
    m["From"] = "Ken Customer <ken@example.com>"
    m["To"] = "support@example.com"
    m["Subject"] = "Printer jammed"
    m["Message-ID"] = "<fuzz-seed@client.example>"
    m.set_content("The printer on floor 3 is jammed again.")
    return bytes(m)


def mutate(raw: bytes, flips: list[tuple[int, int]], cut: int) -> bytes:
    data = bytearray(raw)
    for position, value in flips:
        data[position % len(data)] = value
    return bytes(data[: max(1, cut % (len(data) + 1))])


def check(raw: bytes) -> None:
    before = InboundMessage.objects.count()
    row = inbox.ingest(raw, channel="pipe")
    row = InboundMessage.objects.get(pk=row.pk)
    if InboundMessage.objects.count() > before:
        assert bytes(row.raw) == raw  # kept exactly as it came
    # else: a message with the same Message-ID (or the same bytes) was already kept; not twice
    assert row.status in {InboundStatus.TICKET, InboundStatus.REPLY, InboundStatus.EVENT, InboundStatus.REJECTED}
    if row.status == InboundStatus.REJECTED:
        assert row.reason.strip()
    else:
        assert row.ticket_id is not None


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.django_db
@FUZZ
@given(raw=st.binary(min_size=0, max_size=2_000))
def test_any_bytes_end_as_a_ticket_a_reply_an_event_or_a_kept_rejection(desk, raw):
    check(raw)


@pytest.mark.django_db
@FUZZ
@given(
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=12),
    cut=st.integers(min_value=0),
)
def test_damaged_real_messages_still_end_somewhere_with_a_reason(desk, flips, cut):
    check(mutate(valid_message(), flips, cut))
