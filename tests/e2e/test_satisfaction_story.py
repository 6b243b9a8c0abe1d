"""John resolves Ken's ticket; Ken gets the survey on the real SMTP peer, follows the fourth star,
confirms with a comment; John sees the rating on the timeline and on his profile, and the ticket
stays resolved."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from django.utils import timezone

from tessera.satisfaction import asking
from tessera.tickets import services
from tessera.tickets.models import State, Ticket
from tests.conftest import body_text

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e

COMMENT = "Fixed within the hour, thank you!"


def test_ken_rates_the_help_john_gave_and_the_ticket_stays_resolved(
    transactional_db, desk, site, smtp, browser: Browser
):
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="It jams on page two.", topic=desk.general
    )
    services.assign(desk.john.user, ticket, agent=desk.john)
    base = site.url

    # 1. John resolves it from the properties panel.
    john = browser.new_context().new_page()
    sign_in_to_workspace(john, base, "john@example.com", desk.password)
    john.goto(f"{base}/staff/tickets/{ticket.number}/")
    john.get_by_label("Status", exact=True).select_option(label="Resolved")
    expect(john.locator("#properties-status")).to_contain_text("Status changed to Resolved.")

    # 2. The mail job runs once the survey's delay has passed: Ken's survey arrives once, with a
    # link per star.
    assert asking.run(timezone.now() + timedelta(hours=2)) == 1
    survey = smtp.wait_for(lambda m: "ken@example.com" in m["To"] and "How did we do?" in m["Subject"])[0]
    links = dict((int(n), url) for url, n in re.findall(r"(https?://\S+/rate/\S+/\?score=(\d))", body_text(survey)))
    assert sorted(links) == [1, 2, 3, 4, 5]

    # 3. Ken follows the fourth star (not signed in): the form has it chosen; he adds a comment and confirms.
    ken = browser.new_context().new_page()
    ken.goto(links[4])
    expect(ken.get_by_role("radio", name="4 stars: Good")).to_be_checked()
    ken.get_by_label(re.compile(r"Anything you would like to tell us")).fill(COMMENT)
    ken.get_by_role("button", name="Send my rating").click()
    expect(ken.get_by_text("Thank you for rating the help you got.")).to_be_visible()
    expect(ken.get_by_text("You rated the help 4 out of 5.")).to_be_visible()

    # 4. John sees it on the timeline and on his profile; the ticket is still resolved.
    john.reload()
    expect(john.get_by_text(f"Ken Adams rated the help 4 out of 5: “{COMMENT}”")).to_be_visible()
    expect(john.locator("#ticket-badges").get_by_text("Resolved")).to_be_visible()
    john.goto(base + "/staff/profile/")
    expect(john.get_by_text("An average of 4.0 out of 5, from 1 rating.")).to_be_visible()
    expect(john.get_by_text(COMMENT)).to_be_visible()
    assert Ticket.objects.get(pk=ticket.pk).state == State.RESOLVED
    assert len([m for m in smtp.to("ken@example.com") if "How did we do?" in m["Subject"]]) == 1
