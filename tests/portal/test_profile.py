"""An end user's own profile: name, language, time zone, and a password change that needs the
current password."""

from __future__ import annotations

import pytest

from django.urls import reverse

from .helpers import assert_accessible_page, page_text

PROFILE = reverse("portal:profile")


@pytest.fixture
def ken_client(client, desk):
    client.force_login(desk.ken)
    return client


def test_name_language_and_time_zone_are_saved(ken_client, desk):
    page = ken_client.get(PROFILE)
    assert page.status_code == 200
    assert_accessible_page(page)
    assert 'value="de"' in page_text(page) and "Europe/Berlin" in page_text(page)

    saved = ken_client.post(
        PROFILE, {"action": "profile", "name": "  Ken   Adams-Baker ", "language": "de", "time_zone": "Europe/Berlin"}
    )

    assert saved.status_code == 302
    desk.ken.refresh_from_db()
    assert (desk.ken.name, desk.ken.language, desk.ken.time_zone) == ("Ken Adams-Baker", "de", "Europe/Berlin")
    assert "Your profile is saved." in page_text(ken_client.get(PROFILE))


def test_empty_language_follows_the_browser(ken_client, desk):
    desk.ken.language = "fr"
    desk.ken.save()

    ken_client.post(PROFILE, {"action": "profile", "name": "Ken", "language": "", "time_zone": ""})

    desk.ken.refresh_from_db()
    assert desk.ken.language == "" and desk.ken.time_zone == ""


def test_bad_choices_are_refused_and_the_input_kept(ken_client, desk):
    response = ken_client.post(
        PROFILE, {"action": "profile", "name": "Ken <script>", "language": "xx", "time_zone": "Mars/Olympus"}
    )

    assert response.status_code == 400
    html = page_text(response)
    assert "Select a valid choice" in html
    assert 'value="Ken &lt;script&gt;"' in html
    desk.ken.refresh_from_db()
    assert desk.ken.name == "Ken Adams"


def test_password_change_needs_the_current_password(ken_client, desk):
    new = "another long passphrase"
    wrong = ken_client.post(
        PROFILE, {"action": "password", "old_password": "guess", "new_password1": new, "new_password2": new}
    )
    assert wrong.status_code == 400 and "That is not your current password." in page_text(wrong)
    desk.ken.refresh_from_db()
    assert desk.ken.check_password(desk.password)

    right = ken_client.post(
        PROFILE, {"action": "password", "old_password": desk.password, "new_password1": new, "new_password2": new}
    )

    assert right.status_code == 302
    desk.ken.refresh_from_db()
    assert desk.ken.check_password(new)
    assert ken_client.get(PROFILE).status_code == 200  # this browser stays signed in


def test_the_profile_needs_a_signed_in_end_user(client, desk):
    assert client.get(PROFILE).status_code == 302  # to the sign-in page
    client.force_login(desk.john.user)
    assert client.get(PROFILE)["Location"] == reverse("staff:profile")
