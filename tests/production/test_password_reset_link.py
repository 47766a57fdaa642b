"""The password-reset email's link is built from SITE_URL, never from the request's
Host header: whoever asks for the reset chooses that header."""

import re

import pytest

SITE_URL = "https://licences.example.com"
FORGED_HOST = "attacker.example"


@pytest.fixture
def site(settings):
    settings.SITE_URL = SITE_URL
    # A host Django accepts (a second name of the site, or a wildcard): the header still
    # must not make the link.
    settings.ALLOWED_HOSTS = ["licences.example.com", FORGED_HOST]


def test_the_reset_link_starts_with_site_url_whatever_the_host_header(client, site, dana, mailoutbox):
    response = client.post("/accounts/password-reset/", {"email": dana.email}, HTTP_HOST=FORGED_HOST)
    assert response.status_code == 302

    [email] = mailoutbox
    assert email.to == [dana.email]
    assert FORGED_HOST not in email.subject + email.body
    [link] = re.findall(r"\S+/accounts/reset/\S+", email.body)
    assert link.startswith(f"{SITE_URL}/accounts/reset/")

    # The link works: it leads to the form for the new password.
    response = client.get(link.removeprefix(SITE_URL), follow=True, HTTP_HOST="licences.example.com")
    assert response.status_code == 200
    assert "new_password1" in response.content.decode()
