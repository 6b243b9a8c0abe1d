"""Each mail is written in its recipient's language: the built-in wording through the catalogue,
an administrator's wording for that language before the one for all languages, and dates in
that language. Someone who never chose reads the desk's default.

To check real German once the translators' catalogue is in locale/, add its words to the
expectations below (or drop `german_catalogue` and assert on locale/de's msgstr)."""

from __future__ import annotations

import pytest

from django.utils import translation

from tessera.accounts.models import User
from tessera.mail.models import EmailTemplate
from tessera.tickets import services

ANSWER = "Try the rear tray."


@pytest.fixture
def answered(desk, ken_ticket, mailoutbox, django_capture_on_commit_callbacks):
    """John answers Ken's ticket; returns a function that hands back the mail Ken receives."""

    def answer(*, resolve: bool = False):
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.reply(desk.john.user, ken_ticket, message=ANSWER)
        [mail] = [m for m in mailoutbox if m.to == [desk.ken.email]]
        return mail

    return answer


def html_of(mail) -> str:
    return mail.alternatives[0][0]


def test_a_german_customer_receives_the_reply_in_german(desk, ken_ticket, answered, german_catalogue):
    desk.ken.language = "de"
    desk.ken.save()
    mail = answered()
    assert mail.subject == f"[{ken_ticket.reference}] AW: Printer jams"
    assert ANSWER in mail.body
    assert '<html lang="de">' in html_of(mail)


def test_a_customer_who_never_chose_reads_the_desks_language(desk, ken_ticket, answered, german_catalogue):
    with translation.override("de"):  # whatever the sending request or worker had active
        mail = answered()
    assert mail.subject == f"[{ken_ticket.reference}] Re: Printer jams"


def test_the_access_link_mail_is_in_the_customers_language(desk, ken_ticket, client, mailoutbox):
    desk.ken.language = "de"
    desk.ken.save()
    client.post("/status/", {"email": desk.ken.email, "number": ken_ticket.number})
    [mail] = mailoutbox
    assert '<html lang="de">' in html_of(mail)


def test_a_password_reset_mail_follows_the_accounts_language_over_the_page(desk, client, mailoutbox):
    desk.ken.language = "fr"
    desk.ken.save()
    client.post("/password/", {"email": desk.ken.email}, HTTP_ACCEPT_LANGUAGE="de")
    [mail] = mailoutbox
    assert '<html lang="fr">' in html_of(mail)


def test_a_task_alert_is_in_the_agents_language(desk, ken_ticket, mailoutbox, django_capture_on_commit_callbacks):
    from tessera.tasks import services as tasks

    desk.jane.user.language = "es"
    desk.jane.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.create_task(desk.john.user, ticket=ken_ticket, title="Check the tray", assignee=desk.jane)
    [mail] = [m for m in mailoutbox if m.to == [desk.jane.user.email]]
    assert '<html lang="es">' in html_of(mail)


# ---------------------------------------------------------------------------- administrators' wording per language


@pytest.fixture
def reworded(db):
    EmailTemplate.objects.create(notice="response", language="", subject="Answer: {{ ticket.subject }}", body="all")
    EmailTemplate.objects.create(
        notice="response",
        language="de",
        subject="Antwort: {{ ticket.subject }}",
        body="Geöffnet im {{ ticket.created_at|date:'F' }}.",
    )


def test_a_german_recipient_gets_the_german_wording(desk, ken_ticket, answered, reworded):
    desk.ken.language = "de"
    desk.ken.save()
    mail = answered()
    assert mail.subject == f"[{ken_ticket.reference}] Antwort: Printer jams"
    # Rendered with German active: Django's own catalogue names the month.
    with translation.override("de"):
        from django.utils.formats import date_format

        month = date_format(ken_ticket.created_at, "F")
    assert f"Geöffnet im {month}." in mail.body


def test_a_recipient_in_another_language_gets_the_wording_for_all_languages(desk, ken_ticket, answered, reworded):
    desk.ken.language = "fr"
    desk.ken.save()
    assert answered().subject == f"[{ken_ticket.reference}] Answer: Printer jams"


def test_without_a_wording_for_all_languages_others_get_the_built_in_one(desk, ken_ticket, answered, reworded):
    EmailTemplate.objects.filter(language="").delete()
    assert answered().subject == f"[{ken_ticket.reference}] Re: Printer jams"
    desk.ken.language = "de"
    desk.ken.save()
    assert answered().subject == f"[{ken_ticket.reference}] Antwort: Printer jams"


# ---------------------------------------------------------------------------- a customer who never chose


def open_on_the_portal(client, desk, mailoutbox, capture, **headers):
    with capture(execute=True):
        response = client.post(
            "/", {"topic": desk.general.pk, "subject": "Toner low", "message": "Please send one."}, **headers
        )
    assert response.status_code == 302
    return [m for m in mailoutbox if m.to == [desk.ken.email]]


def test_a_customer_who_opens_a_ticket_on_a_german_page_gets_the_acknowledgement_in_german(
    desk, client, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(desk.ken)
    [ack] = open_on_the_portal(
        client, desk, mailoutbox, django_capture_on_commit_callbacks, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"
    )
    assert '<html lang="de">' in html_of(ack)
    desk.ken.refresh_from_db()
    assert desk.ken.language == "de"  # later replies too


def test_a_guest_who_writes_on_a_spanish_page_gets_the_acknowledgement_in_spanish(
    desk, client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/",
            {
                "email": "lucia@example.es",
                "name": "Lucía",
                "topic": desk.general.pk,
                "subject": "Impresora",
                "message": "No imprime.",
            },
            HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9",
        )
    assert response.status_code == 302
    [ack] = [m for m in mailoutbox if m.to == ["lucia@example.es"]]
    assert '<html lang="es">' in html_of(ack)
    assert User.objects.get(email="lucia@example.es").language == "es"  # and every later mail


def test_a_customer_on_a_page_in_the_desks_language_is_not_pinned_to_it(
    desk, client, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(desk.ken)
    open_on_the_portal(client, desk, mailoutbox, django_capture_on_commit_callbacks, HTTP_ACCEPT_LANGUAGE="en")
    desk.ken.refresh_from_db()
    assert desk.ken.language == ""  # still follows the browser


def test_a_customers_own_choice_is_never_replaced_by_the_page_language(
    desk, client, mailoutbox, django_capture_on_commit_callbacks
):
    desk.ken.language = "fr"
    desk.ken.save()
    client.force_login(desk.ken)
    client.cookies["django_language"] = "de"
    [ack] = open_on_the_portal(client, desk, mailoutbox, django_capture_on_commit_callbacks)
    assert '<html lang="fr">' in html_of(ack)


def test_an_agent_working_in_german_does_not_choose_for_himself_by_acting(desk, client, ken_ticket):
    client.force_login(desk.john.user)
    client.post(f"/staff/tickets/{ken_ticket.number}/note/", {"note-note": "x"}, HTTP_ACCEPT_LANGUAGE="de")
    desk.john.user.refresh_from_db()
    assert desk.john.user.language == ""


# ---------------------------------------------------------------------------- the Help Center's own mail


def test_a_sign_up_on_a_german_page_is_confirmed_in_german(desk, client, mailoutbox):
    client.post("/register/", {"name": "Nina North", "email": "nina@example.net"}, HTTP_ACCEPT_LANGUAGE="de")
    [mail] = mailoutbox
    assert '<html lang="de">' in html_of(mail)


def test_a_lost_link_mail_is_in_the_customers_language(desk, ken_ticket, client, mailoutbox):
    desk.ken.language = "es"
    desk.ken.save()
    from tessera.portal import tasks

    tasks.send_open_ticket_links.enqueue(desk.ken.pk)
    [mail] = mailoutbox
    assert '<html lang="es">' in html_of(mail)
