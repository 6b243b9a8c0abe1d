"""The demo desk's canned responses (`manage.py seed_demo`, through tickets.demo)."""

from __future__ import annotations

from collections.abc import Callable

from tessera.accounts.models import Department, User

from . import services


def add_demo_responses(write: Callable[[str], None]) -> None:
    """A few answers agents insert into replies (:: in the reply box), with their variables."""
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return
    support = Department.objects.get(name="Support")
    sysadmin = Department.objects.get(name="System Administration")

    write("Creating canned responses…")
    answers = [
        (
            "We are looking into it",
            "Hello %{user.first_name},\n\nThank you for ticket #%{ticket.number} (“%{ticket.subject}”). "
            "%{agent.name} from %{department.name} is looking into it and will write again soon.\n\n"
            "You can follow the ticket and add details here: %{ticket.link}",
            [],
        ),
        (
            "Password reset",
            "Hello %{user.first_name},\n\nYou can choose a new password yourself: open the sign-in page, "
            "choose **Forgot your password?** and follow the link we email you. The link works for one hour.",
            [],
        ),
        (
            "Printer jam: the usual fix",
            "Hello %{user.first_name},\n\n1. Open the front cover and remove any torn paper.\n"
            "2. Fan the paper and load it into **tray 2**.\n3. Switch the printer off and on again.\n\n"
            "If it still jams, answer this email and we will send someone.",
            [support],
        ),
        (
            "Planned maintenance",
            "Hello %{user.first_name},\n\nThe service was down for planned maintenance and is back. "
            "If you still see a problem, reply to ticket #%{ticket.number} and we will look at once.",
            [sysadmin],
        ),
    ]
    for title, body, departments in answers:
        services.save_response(admin, None, title=title, body=body, departments=departments)
