"""The knowledge base in Chromium: Mia writes an article in the workspace; a visitor typing a
matching subject on the new-ticket form is shown it under the subject, opens it, and says it
answered their question (no ticket needed); the workspace's knowledge base then shows the ticket
not needed. On the way: the Help Center's knowledge-base pages pass axe and read on a 375-pixel
phone, and John inserts the article's link into a reply from the reply box's picker."""

import pytest
from playwright.sync_api import Browser, expect

from tessera.accounts.models import Agent, Membership, Role, User
from tessera.kb.models import Article, DeflectionDay
from tessera.tickets import services
from tessera.tickets.models import Ticket

from .conftest import sign_in_to_workspace
from .test_accessibility import violations

pytestmark = pytest.mark.e2e


def test_an_article_answers_a_visitor_before_a_ticket_is_opened(transactional_db, desk, site, browser: Browser):
    mia = Agent.objects.create(user=User.objects.create_user("mia@example.com", desk.password, name="Mia Manager"))
    Membership.objects.create(
        agent=mia, department=desk.support, role=Role.objects.get(name="Manager"), is_primary=True
    )
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Toner", message="Where is the toner?", topic=desk.general
    )
    base = site.url
    problems: list[str] = []

    # ---- Mia writes the article in the workspace.
    writer = browser.new_context().new_page()
    writer.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in_to_workspace(writer, base, "mia@example.com", desk.password)
    writer.get_by_role("link", name="Knowledge base").click()
    expect(writer.get_by_role("heading", name="Knowledge base", exact=True)).to_be_visible()
    writer.get_by_role("link", name="New article").click()
    writer.get_by_label("Title").fill("Fixing a paper jam in the office printer")
    writer.get_by_label("Text").fill("1. Open the **front cover**.\n2. Pull the torn paper out gently.")
    writer.get_by_role("button", name="Preview").click()
    expect(writer.locator("#kb-preview strong")).to_have_text("front cover")
    writer.get_by_role("button", name="Save article").click()
    expect(writer.get_by_text("Article “Fixing a paper jam in the office printer” saved.")).to_be_visible()
    article = Article.objects.get()
    assert article.is_public and article.created_by == mia.user

    # ---- A visitor types a subject; the article is suggested under it.
    phone = browser.new_context(viewport={"width": 375, "height": 740})
    visitor = phone.new_page()
    visitor.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    visitor.on("pageerror", lambda exc: problems.append(str(exc)))
    visitor.goto(base + "/")
    visitor.get_by_label("Subject").press_sequentially("The printer has a paper jam", delay=20)
    suggestions = visitor.locator("#kb-suggestions")
    expect(suggestions).to_have_attribute("aria-live", "polite")
    suggestion = suggestions.get_by_role("link", name="Fixing a paper jam in the office printer")
    expect(suggestion).to_be_visible()
    found = {"new ticket with a suggestion": violations(visitor)}
    suggestion.click()

    # ---- The article, read on a phone, answers the question.
    expect(visitor.get_by_role("heading", name="Fixing a paper jam in the office printer")).to_be_visible()
    assert visitor.evaluate("document.documentElement.scrollWidth") <= 375
    found["article"] = violations(visitor)
    visitor.get_by_role("button", name="This answered my question — I don't need a ticket").click()
    expect(visitor.get_by_text("We are glad you found your answer.")).to_be_visible()
    visitor.get_by_role("button", name="Yes").click()
    expect(visitor.get_by_text("Thank you: we are glad it helped.")).to_be_visible()
    article.refresh_from_db()
    assert (article.deflections, article.helpful_yes, article.view_count) == (1, 1, 1)
    assert DeflectionDay.objects.get().count == 1
    assert Ticket.objects.count() == 1  # only Ken's: the visitor opened none
    visitor.goto(base + "/kb/")
    found["knowledge base home"] = violations(visitor)
    visitor.get_by_label("Search the help articles").fill("torn paper")
    visitor.get_by_label("Search the help articles").press("Enter")
    expect(visitor.get_by_role("link", name="Fixing a paper jam in the office printer")).to_be_visible()
    found["search"] = violations(visitor)

    # ---- The workspace shows the ticket not needed.
    writer.get_by_role("link", name="Knowledge base").click()
    expect(writer.locator("#kb-deflections-total")).to_have_text("1")
    expect(writer.locator("td[data-deflections]")).to_have_text("1")
    found["workspace list"] = violations(writer)

    # ---- John links the article in a reply to Ken from the reply box.
    agent = browser.new_context().new_page()
    agent.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in_to_workspace(agent, base, "john@example.com", desk.password)
    agent.goto(f"{base}/staff/tickets/{ticket.number}/")
    reply = agent.get_by_label("Reply", exact=True)
    reply.fill("Hello Ken, see ")
    agent.get_by_role("button", name="Knowledge base").click()
    agent.get_by_label("Find a knowledge-base article").fill("paper jam")
    agent.get_by_role("button", name="Insert a link to “Fixing a paper jam in the office printer”").click()
    expect(reply).to_have_value(
        f"Hello Ken, see [Fixing a paper jam in the office printer]({base}/kb/articles/{article.slug}/)"
    )
    expect(reply).to_be_focused()

    assert {page: v for page, v in found.items() if v} == {}
    assert problems == []
