"""The README's demo accounts still sign in with the password alone."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.management.commands.seed_demo import DEMO_PASSWORD
from accounts.models import User


@pytest.mark.django_db
def test_every_demo_account_signs_in_without_a_code(client):
    call_command("seed_demo", stdout=StringIO())
    demo = User.objects.filter(email__endswith=".example").order_by("email")
    assert demo.count() == 11
    for user in demo:
        client.logout()
        response = client.post("/accounts/login/", {"username": user.email, "password": DEMO_PASSWORD}, follow=True)
        assert response.status_code == 200, user.email
        final = response.redirect_chain[-1][0]
        assert "/accounts/two-factor/" not in final, user.email
        assert final != "/accounts/login/", user.email
