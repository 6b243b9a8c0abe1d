"""Two agents on one ticket in two browsers: when John starts a reply, Sam sees "John Doe is
replying" within seconds, and Sam's reply asks for confirmation instead of silently crossing
John's — first while John is still writing, then because John's reply went out meanwhile."""

import time

import pytest
from playwright.sync_api import Browser, expect

from tessera.accounts.models import Agent, Membership, Role, User
from tessera.tickets import services
from tessera.tickets.models import EntryKind, ThreadEntry, TicketLock

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e

JOHN_SAYS = "Have you tried the other tray?"
SAM_SAYS = "I restarted the print spooler."


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_two_agents_on_one_ticket_do_not_cross_replies(transactional_db, desk, site, browser: Browser, settings):
    settings.TESSERA = {**settings.TESSERA, "POLL_SECONDS": 1}
    sam = Agent.objects.create(user=User.objects.create_user("sam@example.com", desk.password, name="Sam Lee"))
    Membership.objects.create(agent=sam, department=desk.support, role=Role.objects.get(name="Agent"), is_primary=True)
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="It jams on page two.", topic=desk.general
    )
    base = site.url
    url = f"{base}/staff/tickets/{ticket.number}/"

    john = browser.new_context().new_page()
    sign_in_to_workspace(john, base, "john@example.com", desk.password)
    john.goto(url)
    other = browser.new_context().new_page()
    sign_in_to_workspace(other, base, "sam@example.com", desk.password)
    other.goto(url)
    presence = other.locator("#presence")
    expect(presence).to_have_text("")

    # John starts typing: Sam's page says so within a few seconds, without a reload.
    john.get_by_label("Reply", exact=True).press_sequentially(JOHN_SAYS[:12])
    expect(presence).to_have_text("John Doe is replying", timeout=5000)
    expect(john.locator("#presence")).to_have_text("")  # nobody is told about themselves

    # Sam starts typing anyway: warned, not blocked.
    sam_box = other.get_by_label("Reply", exact=True)
    sam_box.press_sequentially(SAM_SAYS)
    expect(other.get_by_text("John Doe is writing a reply right now.").first).to_be_visible()
    other.get_by_role("button", name="Send reply").click()
    alert = other.get_by_role("alert")
    expect(alert).to_contain_text("Not sent yet: someone else is answering this ticket.")
    expect(alert).to_contain_text("John Doe is writing a reply right now.")
    expect(sam_box).to_have_value(SAM_SAYS)
    assert not ThreadEntry.objects.filter(kind=EntryKind.RESPONSE).exists()

    # John sends; his lock goes with it, and Sam's page stops saying he is replying.
    john.get_by_label("Reply", exact=True).press_sequentially(JOHN_SAYS[12:])
    john.get_by_role("button", name="Send reply").click()
    expect(john.get_by_text("Reply sent.")).to_be_visible()
    expect(other.locator("#presence")).to_have_text("", timeout=5000)

    # Sam's "Send anyway" now meets John's new reply: it is shown, and Sam confirms again.
    other.get_by_role("button", name="Send anyway").click()
    alert = other.get_by_role("alert")
    expect(alert).to_contain_text("John Doe replied to this ticket while you were writing.")
    expect(alert.get_by_text(JOHN_SAYS)).to_be_visible()
    expect(sam_box).to_have_value(SAM_SAYS)
    assert ThreadEntry.objects.filter(kind=EntryKind.RESPONSE).count() == 1
    other.get_by_role("button", name="Send anyway").click()
    expect(other.get_by_text("Reply sent.")).to_be_visible()
    assert list(
        ThreadEntry.objects.filter(kind=EntryKind.RESPONSE).order_by("id").values_list("body_text", flat=True)
    ) == [JOHN_SAYS, SAM_SAYS]

    # Leaving the page lets go of the lock (sendBeacon), so nobody sees a ghost replying.
    other.get_by_label("Reply", exact=True).press_sequentially("One more thing")
    wait_until(lambda: TicketLock.objects.filter(agent=sam).exists())
    expect(john.locator("#presence")).to_have_text("Sam Lee is replying", timeout=5000)
    other.goto(f"{base}/staff/")
    wait_until(lambda: not TicketLock.objects.exists())
    expect(john.locator("#presence")).to_have_text("", timeout=5000)
