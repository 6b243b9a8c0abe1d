"""Sessions end after the idle period, and people see and sign out their other sessions."""

import time

import pytest

from django.contrib.sessions.models import Session

from tessera.audit.models import Action, AuditEntry, UserSession
from tessera.audit.sessions import RENEW_SECONDS, SEEN_KEY, describe_user_agent

from .conftest import SAFARI_IPHONE


@pytest.fixture
def idle_minutes(settings):
    settings.TESSERA = {**settings.TESSERA, "SESSION_IDLE_MINUTES": 30}
    return 30


def _age(client, seconds):
    session = client.session
    session[SEEN_KEY] = int(time.time()) - seconds
    session.save()


def _seen(client):
    return client.session[SEEN_KEY]


def test_a_request_after_the_idle_period_signs_out_and_asks_to_sign_in_again(signed_in, idle_minutes):
    john = signed_in()
    _age(john, idle_minutes * 60 + 5)

    response = john.get("/staff/queues/mine/", follow=True)

    assert response.redirect_chain[0][0] == "/staff/login/?next=/staff/queues/mine/"
    assert "signed out after 30 minutes without activity" in response.content.decode()
    assert john.get("/staff/").status_code == 302  # really signed out, not just redirected once
    assert not UserSession.objects.exists()
    assert AuditEntry.objects.filter(action=Action.IDLE_SIGN_OUT, actor_label="john@example.com").exists()


def test_the_admin_and_the_portal_send_an_idle_person_to_their_own_sign_in(signed_in, desk, idle_minutes):
    admin = signed_in(desk.admin, door="/admin/login/")
    _age(admin, idle_minutes * 60 + 5)
    assert admin.get("/admin/").headers["Location"].startswith("/admin/login/")

    ken = signed_in(desk.ken, door="/login/")
    _age(ken, idle_minutes * 60 + 5)
    assert ken.get("/tickets/").headers["Location"].startswith("/login/")


def test_activity_keeps_the_session_and_renews_it_at_most_once_a_minute(signed_in, idle_minutes, desk):
    john = signed_in()
    _age(john, idle_minutes * 60 - 20)  # nearly idle
    assert john.get("/staff/").status_code == 200
    renewed = _seen(john)
    assert renewed >= int(time.time()) - 2
    row = UserSession.objects.get()
    assert row.last_seen.timestamp() >= renewed - 1

    # Within the minute: no session write at all.
    _age(john, RENEW_SECONDS - 20)
    before = _seen(john)
    john.get("/staff/")
    assert _seen(john) == before


def test_background_polls_do_not_keep_an_idle_session_alive(signed_in, idle_minutes):
    john = signed_in()
    _age(john, 600)
    before = _seen(john)
    assert john.get("/staff/queues/counts/", HTTP_HX_REQUEST="true").status_code == 200
    assert _seen(john) == before


def test_an_htmx_poll_after_the_idle_period_sends_the_whole_page_to_sign_in(signed_in, idle_minutes):
    john = signed_in()
    _age(john, idle_minutes * 60 + 5)
    response = john.get("/staff/queues/counts/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/staff/login/"


def test_zero_minutes_turns_the_idle_timeout_off(signed_in, settings):
    settings.TESSERA = {**settings.TESSERA, "SESSION_IDLE_MINUTES": 0}
    john = signed_in()
    _age(john, 30 * 24 * 3600)
    assert john.get("/staff/").status_code == 200


def test_the_profile_lists_each_signed_in_browser_and_marks_this_one(signed_in):
    laptop = signed_in()
    signed_in(user_agent=SAFARI_IPHONE, ip="2001:db8::5")

    page = laptop.get("/staff/profile/").content.decode()

    assert "Firefox on Linux" in page
    assert "Safari on iOS" in page
    assert "203.0.113.7" in page and "2001:db8::5" in page
    assert page.count(">this session<") == 1
    current = page.split("current-session", 1)[1].split("</tr>", 1)[0]
    assert "Firefox on Linux" in current
    assert "Sign out everywhere else" in page


def test_a_hostile_user_agent_is_shown_as_text(signed_in):
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    signed_in(user_agent=hostile)
    page = signed_in().get("/staff/profile/").content.decode()
    assert "<script>alert(1)" not in page
    assert "onerror=alert(2)>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_signing_out_another_session_signs_that_browser_out(signed_in):
    laptop = signed_in()
    phone = signed_in(user_agent=SAFARI_IPHONE)
    phone_row = UserSession.objects.get(user_agent=SAFARI_IPHONE)

    response = laptop.post(f"/account/sessions/{phone_row.pk}/end/")

    assert response.status_code == 302 and response["Location"] == "/staff/profile/"
    assert phone.get("/staff/").status_code == 302
    assert not Session.objects.filter(session_key=phone_row.session_key).exists()
    assert laptop.get("/staff/").status_code == 200
    assert AuditEntry.objects.filter(action=Action.SESSION_ENDED, actor_label="john@example.com").exists()


def test_sign_out_everywhere_else_keeps_only_this_browser(signed_in):
    laptop = signed_in()
    others = [signed_in(user_agent=SAFARI_IPHONE), signed_in(ip="198.51.100.1")]

    response = laptop.post("/account/sessions/end-others/", follow=True)

    assert "2 other sessions are signed out." in response.content.decode()
    assert all(c.get("/staff/").status_code == 302 for c in others)
    assert laptop.get("/staff/").status_code == 200
    assert UserSession.objects.count() == 1


def test_nobody_can_sign_out_someone_elses_session(signed_in, desk):
    john = signed_in()
    johns_row = UserSession.objects.get()
    jane = signed_in(desk.jane.user)

    assert jane.post(f"/account/sessions/{johns_row.pk}/end/").status_code == 404
    assert jane.post("/account/sessions/end-others/").status_code == 302
    assert john.get("/staff/").status_code == 200


def test_signing_out_here_removes_this_session_from_the_list(signed_in):
    john = signed_in()
    assert UserSession.objects.count() == 1
    john.post("/staff/logout/")
    assert not UserSession.objects.exists()


def test_ending_sessions_needs_a_post_and_a_signed_in_person(client, signed_in):
    john = signed_in()
    row = UserSession.objects.get()
    assert john.get(f"/account/sessions/{row.pk}/end/").status_code == 405
    assert client.post(f"/account/sessions/{row.pk}/end/").status_code == 302
    assert john.get("/staff/").status_code == 200


def test_a_changed_password_rotates_the_session_and_the_list_follows(signed_in, desk):
    admin = signed_in(desk.admin, door="/admin/login/")
    other = signed_in(desk.admin, door="/admin/login/", user_agent=SAFARI_IPHONE)
    old_key = admin.cookies["sessionid"].value
    new_password = "a much longer new passphrase"

    response = admin.post(
        f"/admin/accounts/user/{desk.admin.pk}/password/",
        {"password1": new_password, "password2": new_password, "set_usable_password": "true"},
    )

    assert response.status_code == 302
    new_key = admin.cookies["sessionid"].value
    assert new_key != old_key  # rotated, and still signed in
    assert admin.get("/admin/").status_code == 200
    assert other.get("/admin/").status_code == 302  # the old password's sessions end
    assert UserSession.objects.filter(session_key=new_key).exists()
    assert not UserSession.objects.filter(session_key=old_key).exists()


def test_sessions_that_ended_by_themselves_drop_off_the_list(signed_in, desk):
    laptop = signed_in()
    signed_in(user_agent=SAFARI_IPHONE)
    Session.objects.exclude(session_key=laptop.cookies["sessionid"].value).delete()  # e.g. clearsessions
    page = laptop.get("/staff/profile/").content.decode()
    assert "Safari on iOS" not in page
    assert UserSession.objects.count() == 1


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 Version/18.1 Safari/605.1.15",
            "Safari on macOS",
        ),
        ("Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36", "Chrome on Android"),
        ("curl/8.5.0", "curl"),
        ("", "Unknown browser"),
    ],
)
def test_browsers_get_a_short_name(user_agent, expected):
    assert describe_user_agent(user_agent) == expected


def test_signing_out_this_session_from_the_list_signs_out_here(signed_in):
    john = signed_in()
    row = UserSession.objects.get()
    response = john.post(f"/account/sessions/{row.pk}/end/", follow=True)
    assert response.redirect_chain[-1][0] == "/staff/login/"
    assert "You have signed out." in response.content.decode()
    assert john.get("/staff/").status_code == 302
    assert not UserSession.objects.exists()
