import pytest

from django.test import Client

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def signed_in(desk):
    """A separate browser (its own cookies), signed in through the real form."""

    def sign_in(user=None, *, user_agent=FIREFOX, ip="203.0.113.7", door="/staff/login/"):
        client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
        user = user or desk.john.user
        response = client.post(door, {"username": user.email, "password": desk.password})
        assert response.status_code == 302, response.content.decode()[:500]
        return client

    return sign_in
