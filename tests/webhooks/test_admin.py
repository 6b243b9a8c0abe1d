"""Administrators subscribe URLs in the admin; the signing secret is shown to superusers only."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.urls import reverse

from tessera.accounts.models import User
from tessera.webhooks.models import Subscription, SubscriptionState


def test_an_administrator_subscribes_a_url_and_sees_its_secret(desk, client, receiver):
    client.force_login(desk.admin)
    response = client.post(
        reverse("admin:webhooks_subscription_add"),
        {"name": "CRM", "url": receiver.url, "events": ["ticket.created", "note.created"], "owner": desk.admin.pk,
         "state": "active"},
    )  # fmt: skip
    assert response.status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.events == ["ticket.created", "note.created"]
    assert subscription.secret.startswith("whsec_") and len(subscription.secret) > 40
    page = client.get(reverse("admin:webhooks_subscription_change", args=[subscription.pk])).content.decode()
    assert subscription.secret in page
    listing = client.get(reverse("admin:webhooks_subscription_changelist")).content.decode()
    assert subscription.secret not in listing


def test_staff_without_superuser_rights_never_see_the_secret(desk, client, subscribe, receiver):
    subscription = subscribe(receiver.url)
    clerk = User.objects.create_user("clerk@example.com", desk.password, name="Clerk", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(content_type__app_label="webhooks"))
    client.force_login(clerk)
    page = client.get(reverse("admin:webhooks_subscription_change", args=[subscription.pk]))
    assert page.status_code == 200
    assert subscription.secret not in page.content.decode()
    assert "Shown to superusers only." in page.content.decode()


def test_setting_a_paused_subscription_active_again_resumes_it(desk, client, subscribe, receiver):
    subscription = subscribe(receiver.url)
    Subscription.objects.filter(pk=subscription.pk).update(
        state=SubscriptionState.PAUSED, consecutive_failures=20, pause_reason="20 failed attempts in a row"
    )
    client.force_login(desk.admin)
    response = client.post(
        reverse("admin:webhooks_subscription_changelist"), {"action": "resume", "_selected_action": [subscription.pk]}
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.state, subscription.consecutive_failures, subscription.pause_reason) == ("active", 0, "")
