"""The requester of a resolved or closed ticket is asked once to rate the help; the rating lands
on the timeline and the agent's profile, and never reopens or moves the ticket.

Mail goes to a real SMTP peer (aiosmtpd); services announce their changes after commit, so each
call runs inside django_capture_on_commit_callbacks(execute=True)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tessera.satisfaction import asking, tokens
from tessera.satisfaction import services as satisfaction
from tessera.satisfaction.models import Rating, Survey
from tessera.tickets import services
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import Event, EventKind, State, Ticket

from ..conftest import body_text

KEN = "ken@example.com"
RATE_LINK = re.compile(r"https?://[^\s\"<>]+/rate/[^\s\"<>/]+/\?score=(\d)")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def later(hours: float = 2):
    """A moment after the survey's delay (an hour by default) has passed."""
    return timezone.now() + timedelta(hours=hours)


@pytest.fixture
def resolved(desk, smtp, committed):
    """Ken's printer ticket, assigned to John, who resolves it; the mail job has run since."""
    ticket = committed(
        services.open_ticket,
        desk.ken,
        requester=desk.ken,
        subject="Printer jams",
        message="Page two.",
        topic=desk.general,
    )
    committed(services.assign, desk.john.user, Ticket.objects.get(pk=ticket.pk), agent=desk.john)
    committed(services.set_status, desk.john.user, Ticket.objects.get(pk=ticket.pk), status=desk.resolved)
    committed(asking.run, later())
    return Ticket.objects.get(pk=ticket.pk)


def surveys_to(smtp, address=KEN):
    """The survey mails to `address`, in whichever shipped language they were written."""
    from django.conf import settings
    from django.utils import translation

    subjects = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            subjects.add(translation.gettext("How did we do?"))
    return [m for m in smtp.to(address) if any(s in m["Subject"] for s in subjects)]


def test_resolving_a_ticket_mails_the_requester_once_with_a_link_per_star(resolved, desk, smtp):
    [mail] = surveys_to(smtp)
    assert mail["Subject"].startswith(f"[{resolved.reference}]")
    text = body_text(mail)
    assert sorted(int(n) for n in RATE_LINK.findall(text)) == [1, 2, 3, 4, 5]
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert len(RATE_LINK.findall(html)) == 5
    survey = Survey.objects.get(ticket=resolved)
    assert survey.agent == desk.john and survey.department == desk.support and survey.requester == desk.ken


def test_the_survey_waits_for_its_delay_so_it_does_not_land_on_the_resolution_mail(desk, smtp, committed, ken_ticket):
    committed(services.set_status, desk.john.user, ken_ticket, status=desk.resolved)
    assert Survey.objects.filter(ticket=ken_ticket, mailed_at=None).exists()  # planned at once
    assert committed(asking.run) == 0
    assert committed(asking.run, later(0.5)) == 0
    assert surveys_to(smtp) == []
    assert committed(asking.run, later(1.1)) == 1
    assert committed(asking.run, later(3)) == 0  # mailed once, whatever runs after
    assert len(surveys_to(smtp)) == 1


def test_a_ticket_resolved_reopened_and_resolved_again_is_asked_only_once(resolved, desk, smtp, committed):
    committed(services.reply, desk.ken, resolved, message="Still jams.")
    committed(services.set_status, desk.john.user, Ticket.objects.get(pk=resolved.pk), status=desk.resolved)
    committed(services.set_status, desk.john.user, Ticket.objects.get(pk=resolved.pk), status=desk.closed)
    committed(asking.run, later(5))
    assert len(surveys_to(smtp)) == 1
    assert Survey.objects.filter(ticket=resolved).count() == 1


def test_a_ticket_reopened_before_its_survey_was_due_is_asked_once_resolved_again(desk, smtp, committed, ken_ticket):
    committed(services.set_status, desk.john.user, ken_ticket, status=desk.resolved)
    committed(services.reply, desk.ken, Ticket.objects.get(pk=ken_ticket.pk), message="Still jams.")
    assert committed(asking.run, later()) == 0  # open again: the survey waits
    committed(services.set_status, desk.john.user, Ticket.objects.get(pk=ken_ticket.pk), status=desk.resolved)
    assert committed(asking.run, later()) == 1
    assert len(surveys_to(smtp)) == 1


def test_a_rating_given_on_the_portal_before_the_mail_means_no_mail(client, desk, smtp, committed, ken_ticket):
    committed(services.set_status, desk.john.user, ken_ticket, status=desk.resolved)
    survey = Survey.objects.get(ticket=ken_ticket)
    client.post(tokens.rate_path(survey), {"score": "5"})
    assert committed(asking.run, later()) == 0
    assert surveys_to(smtp) == []


def test_a_change_that_rolls_back_plans_no_survey(desk, ken_ticket):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.set_status(desk.john.user, ken_ticket, status=desk.resolved)
        raise RuntimeError("the change fails after the save")
    assert not Survey.objects.exists()


def test_a_reply_that_resolves_and_the_quiet_auto_close_both_count_as_the_one_resolution(
    desk, smtp, committed, ken_ticket
):
    committed(services.reply, desk.john.user, ken_ticket, message="Fixed.", status=desk.resolved)
    survey = Survey.objects.get(ticket=ken_ticket)
    desk.support.auto_close_days = 1
    desk.support.save(update_fields=["auto_close_days"])
    assert committed(services.close_if_quiet, ken_ticket.pk, now=later(48))
    assert Survey.objects.get(ticket=ken_ticket) == survey  # closing later asks nothing new
    assert committed(asking.run, later()) == 1
    assert len(surveys_to(smtp)) == 1


def test_a_requester_closing_their_own_ticket_is_asked(desk, smtp, committed, ken_ticket):
    committed(services.close_by_user, desk.ken, ken_ticket)
    committed(asking.run, later())
    assert len(surveys_to(smtp)) == 1


def test_a_ticket_merged_into_another_is_not_asked(desk, smtp, committed):
    from tessera.accounts.models import Agent, Membership, Role, User

    mia = User.objects.create_user("mia@example.com", desk.password, name="Mia Manager")
    agent = Agent.objects.create(user=mia)
    Membership.objects.create(
        agent=agent, department=desk.support, role=Role.objects.get(name="Manager"), is_primary=True
    )
    a = committed(services.open_ticket, desk.ken, requester=desk.ken, subject="One", message="x", topic=desk.general)
    b = committed(services.open_ticket, desk.ken, requester=desk.ken, subject="Two", message="y", topic=desk.general)
    committed(services.merge, mia, b, sources=[a])
    assert Ticket.objects.get(pk=a.pk).state == State.CLOSED
    committed(asking.run, later())
    assert surveys_to(smtp) == []
    assert not Survey.objects.exists()


def test_a_desk_with_surveys_turned_off_asks_nobody(desk, smtp, committed, ken_ticket, settings):
    settings.TESSERA = {**settings.TESSERA, "SATISFACTION_SURVEYS": False}
    committed(services.set_status, desk.john.user, ken_ticket, status=desk.resolved)
    committed(asking.run, later())
    assert surveys_to(smtp) == []
    assert not Survey.objects.exists()


@pytest.mark.parametrize(("chosen", "written_in"), [("de", "de"), ("", "en"), ("xx-evil", "en")])
def test_the_survey_mail_is_written_in_the_requesters_language(desk, smtp, committed, ken_ticket, chosen, written_in):
    from django.template import Context, Template

    desk.ken.language = chosen
    desk.ken.save(update_fields=["language"])
    committed(services.set_status, desk.john.user, ken_ticket, status=desk.resolved)
    committed(asking.run, later())
    assert len(surveys_to(smtp)) == 1
    probe = Template(
        "{% load i18n satisfaction_tags %}{% satisfaction_mail ticket recipient as s %}"
        "{% language s.language %}{% get_current_language as now %}{{ now }}{% endlanguage %}"
    )
    assert probe.render(Context({"ticket": ken_ticket, "recipient": desk.ken})) == written_in


# ---------------------------------------------------------------------------- the rating page


def _link(resolved, score=None) -> str:
    return tokens.rate_path(Survey.objects.get(ticket=resolved), score)


def test_a_star_link_preselects_the_choice_and_records_nothing(client, resolved):
    page = client.get(_link(resolved, 4))
    assert page.status_code == 200
    assert re.search(r'<input[^>]*value="4"[^>]*checked|<input[^>]*checked[^>]*value="4"', page.content.decode())
    assert not Rating.objects.exists()
    assert not Event.objects.filter(kind=EventKind.SATISFACTION).exists()


def test_confirming_records_the_rating_and_the_ticket_stays_resolved_and_in_place(client, resolved, desk):
    before = Ticket.objects.get(pk=resolved.pk)
    response = client.post(_link(resolved), {"score": "4", "comment": "Quick and kind."})
    assert response.status_code == 302
    rating = Rating.objects.get(ticket=resolved)
    assert (rating.score, rating.comment, rating.agent, rating.department) == (
        4,
        "Quick and kind.",
        desk.john,
        desk.support,
    )
    after = Ticket.objects.get(pk=resolved.pk)
    assert after.state == State.RESOLVED
    assert (after.version, after.updated_at, after.status_id) == (before.version, before.updated_at, before.status_id)
    event = Event.objects.get(ticket=resolved, kind=EventKind.SATISFACTION)
    assert event_sentence(event) == "Ken Adams rated the help 4 out of 5: “Quick and kind.”"


def test_a_rating_may_be_changed_for_a_week_then_no_more(client, resolved):
    url = _link(resolved)
    client.post(url, {"score": "2", "comment": ""})
    client.post(url, {"score": "5", "comment": "Fixed for good."})
    rating = Rating.objects.get(ticket=resolved)
    assert rating.score == 5 and rating.changed_at is not None
    changed = Event.objects.filter(kind=EventKind.SATISFACTION).order_by("pk").last()
    assert event_sentence(changed) == "Ken Adams changed their rating from 2 to 5 out of 5: “Fixed for good.”"
    Rating.objects.filter(pk=rating.pk).update(rated_at=timezone.now() - timedelta(days=8))
    refused = client.post(url, {"score": "1", "comment": ""})
    assert refused.status_code == 403
    assert Rating.objects.get(pk=rating.pk).score == 5


def test_rating_twice_the_same_way_records_one_event(client, resolved):
    url = _link(resolved)
    client.post(url, {"score": "3", "comment": "ok"})
    client.post(url, {"score": "3", "comment": "ok"})
    assert Event.objects.filter(kind=EventKind.SATISFACTION).count() == 1
    assert Rating.objects.count() == 1


@pytest.mark.parametrize("score", ["0", "6", "abc", "", "4.5", "-1"])
def test_a_score_outside_one_to_five_is_refused_and_the_comment_kept(client, resolved, score):
    response = client.post(_link(resolved), {"score": score, "comment": "Kept text"})
    assert response.status_code == 400
    assert "Choose from 1 to 5 stars." in response.content.decode()
    assert "Kept text" in response.content.decode()
    assert not Rating.objects.exists()


def test_a_ten_thousand_character_comment_is_refused(client, resolved):
    response = client.post(_link(resolved), {"score": "5", "comment": "x" * 10_000})
    assert response.status_code == 400
    assert not Rating.objects.exists()


def test_markup_in_a_comment_is_shown_as_text_on_the_staff_timeline(client, resolved, desk):
    client.post(_link(resolved), {"score": "1", "comment": '<script>alert("x")</script><img src=x onerror=alert(1)>'})
    client.force_login(desk.john.user)
    page = client.get(reverse("staff:ticket", args=[resolved.number])).content.decode()
    assert "rated the help 1 out of 5" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_a_tampered_token_finds_nothing(client, resolved):
    url = _link(resolved)
    token = url.rstrip("/").rsplit("/", 1)[1]
    bad = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(reverse("satisfaction:rate", args=[bad])).status_code == 404
    assert client.post(reverse("satisfaction:rate", args=[bad]), {"score": "5"}).status_code == 404
    assert client.get(reverse("satisfaction:rate", args=["not-a-token"])).status_code == 404
    assert not Rating.objects.exists()


def test_a_token_naming_another_tickets_survey_finds_nothing(client, resolved, desk, committed):
    other = committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Other", message="z", topic=desk.general
    )
    survey = Survey.objects.get(ticket=resolved)
    from django.core import signing

    forged = signing.dumps({"s": survey.pk, "t": other.pk}, salt=tokens.SALT, compress=False)
    assert client.post(reverse("satisfaction:rate", args=[forged]), {"score": "5"}).status_code == 404
    # signed with another salt (e.g. a portal access token) it is no rating token either
    wrong_salt = signing.dumps({"s": survey.pk, "t": resolved.pk}, salt="elsewhere", compress=False)
    assert client.post(reverse("satisfaction:rate", args=[wrong_salt]), {"score": "5"}).status_code == 404
    assert not Rating.objects.exists()


def test_someone_signed_in_who_is_not_the_requester_is_told_nothing_is_there(client, resolved, desk):
    client.force_login(desk.john.user)
    url = _link(resolved, 5)
    assert client.get(url).status_code == 404
    assert client.post(url, {"score": "5"}).status_code == 404
    assert not Rating.objects.exists()


def test_the_requester_signed_in_may_rate(client, resolved, desk):
    client.force_login(desk.ken)
    assert client.post(_link(resolved), {"score": "5"}).status_code == 302
    assert Rating.objects.get().score == 5


def test_a_reopened_ticket_cannot_be_rated_until_it_is_resolved_again(client, resolved, desk, committed):
    committed(services.reply, desk.ken, resolved, message="Still jams.")
    assert "This ticket is open again" in client.get(_link(resolved, 5)).content.decode()
    assert client.post(_link(resolved), {"score": "5"}).status_code == 403
    assert not Rating.objects.exists()
    assert Ticket.objects.get(pk=resolved.pk).state == State.OPEN


def test_an_old_survey_can_no_longer_be_answered(client, resolved):
    Survey.objects.filter(ticket=resolved).update(mailed_at=timezone.now() - timedelta(days=31))
    page = client.get(_link(resolved, 5))
    assert "This survey has closed" in page.content.decode()
    assert client.post(_link(resolved), {"score": "5"}).status_code == 403


def test_the_service_refuses_anyone_but_the_requester(resolved, desk):
    with pytest.raises(PermissionDenied):
        satisfaction.rate(desk.john.user, Survey.objects.get(ticket=resolved), score=5)
    with pytest.raises(ValidationError):
        satisfaction.rate(desk.ken, Survey.objects.get(ticket=resolved), score=9)


def test_the_database_refuses_a_score_outside_one_to_five(resolved):
    survey = Survey.objects.get(ticket=resolved)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(survey=survey, ticket=resolved, department=survey.department, score=6)


def test_the_rating_page_keeps_its_link_from_other_sites_and_is_not_indexed(client, resolved):
    # same-origin, not no-referrer: with no referrer at all browsers send "Origin: null" on the
    # form's POST, which Django's CSRF check rightly refuses.
    page = client.get(_link(resolved)).content.decode()
    assert '<meta name="referrer" content="same-origin">' in page
    assert "noindex" in page


# ---------------------------------------------------------------------------- portal and profile


def test_the_portal_ticket_page_asks_the_requester_and_thanks_them_after(client, resolved, desk):
    client.force_login(desk.ken)
    url = reverse("portal:ticket", args=[resolved.number])
    page = client.get(url).content.decode()
    assert "How did we do?" in page and page.count("/rate/") == 5
    client.post(_link(resolved), {"score": "4"})
    page = client.get(url).content.decode()
    assert "How did we do?" not in page and "You rated the help 4 out of 5." in page


def test_the_portal_prompt_is_not_shown_on_an_open_ticket(client, desk, ken_ticket):
    client.force_login(desk.ken)
    page = client.get(reverse("portal:ticket", args=[ken_ticket.number])).content.decode()
    assert "How did we do?" not in page


def test_the_agents_profile_shows_their_average_and_latest_comments(client, resolved, desk):
    client.post(_link(resolved), {"score": "4", "comment": "Very <b>helpful</b>"})
    client.force_login(desk.john.user)
    page = client.get(reverse("staff:profile")).content.decode()
    assert "An average of 4.0 out of 5, from 1 rating." in page
    assert "Very &lt;b&gt;helpful&lt;/b&gt;" in page
    client.force_login(desk.jane.user)
    assert "No customer has rated your help yet." in client.get(reverse("staff:profile")).content.decode()


def test_the_admin_exports_ratings_as_csv_with_formulas_defused(client, resolved, desk):
    client.post(_link(resolved), {"score": "2", "comment": '=HYPERLINK("http://evil")'})
    client.force_login(desk.admin)
    listing = client.get(reverse("admin:satisfaction_rating_changelist") + "?score=2")
    assert listing.status_code == 200 and resolved.reference in listing.content.decode()
    rating = Rating.objects.get()
    response = client.post(
        reverse("admin:satisfaction_rating_changelist"),
        {"action": "export_csv", "_selected_action": [rating.pk]},
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert resolved.reference in text and "'=HYPERLINK" in text and "John Doe" in text
