"""The demo desk's knowledge base (`manage.py seed_demo`, through tickets.demo): a few
categories, helpful public articles (one featured per common question) and one internal note."""

from __future__ import annotations

from collections.abc import Callable

from tessera.tickets.models import HelpTopic

from . import services
from .models import Category


def add_demo_articles(write: Callable[[str], None]) -> None:
    if Category.objects.exists():
        return
    write("Creating knowledge-base articles…")
    accounts = services.save_category(
        None, None, name="Accounts and passwords", description="Signing in, passwords and two-factor.", order=1
    )
    printing = services.save_category(None, None, name="Printing", description="Printers, paper and toner.", order=2)
    network = services.save_category(
        None, None, name="Network and VPN", description="Wi-Fi, VPN and remote work.", order=3
    )
    desk_notes = services.save_category(
        None, None, name="Desk procedures", description="How the desk works (agents only).", is_public=False, order=9
    )
    topics = {t.name: t for t in HelpTopic.objects.all()}

    def related(*names: str) -> list[HelpTopic]:
        return [topics[n] for n in names if n in topics]

    services.create_article(
        None,
        title="How do I reset my password?",
        category=accounts,
        featured=True,
        body=(
            "You can choose a new password yourself:\n\n"
            "1. Open the sign-in page and choose **Forgot your password?**\n"
            "2. Enter your email address.\n"
            "3. Follow the link we email you. It works for **one hour**.\n\n"
            "No email after ten minutes? Look in your spam folder, then open a ticket."
        ),
    )
    services.create_article(
        None,
        title="The printer jams on every page",
        category=printing,
        featured=True,
        topics=related("Printing", "Hardware"),
        body=(
            "Most paper jams have the same three causes.\n\n"
            "1. Open the front cover and remove any torn paper, pulling gently towards you.\n"
            "2. Fan the paper and load it into **tray 2**; damp paper sticks together.\n"
            "3. Switch the printer off, wait ten seconds, and switch it on again.\n\n"
            "If the printer still jams, note the code on its display (for example `E-204`) and open a ticket."
        ),
    )
    services.create_article(
        None,
        title="Connecting to the VPN from home",
        category=network,
        featured=True,
        body=(
            "## Before you start\n\nYou need the VPN client installed and your usual account.\n\n"
            "## Connect\n\n1. Start the VPN client.\n2. Choose the **Office** profile.\n"
            "3. Sign in and approve the prompt on your phone.\n\n"
            "The VPN disconnects after 12 hours; connect again to continue."
        ),
    )
    services.create_article(
        None,
        title="Wi-Fi is slow or keeps dropping",
        category=network,
        body=(
            "- Move closer to an access point, or away from microwaves.\n"
            "- Forget the network and join it again.\n"
            "- Restart your laptop's network adapter.\n\nStill slow? Tell us your room and the time it happens."
        ),
    )
    services.create_article(
        None,
        title="Escalating a printer fault to the vendor",
        category=desk_notes,
        is_public=False,
        body=(
            "Internal: call the vendor's line with the printer's serial number (on the back label) "
            "and the error code. Note the vendor's case number in an internal note on the ticket."
        ),
    )
