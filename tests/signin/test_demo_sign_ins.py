"""The README's demo accounts still sign in with the password alone; the demo
operator, as every operator, sets up two-factor sign-in first."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Role, User
from demo.management.commands.seed_demo import DEMO_PASSWORD


@pytest.mark.django_db
def test_every_demo_account_signs_in_without_a_code(client):
    call_command("seed_demo", stdout=StringIO())
    demo = User.objects.filter(email__endswith=".example").exclude(role=Role.OPERATOR).order_by("email")
    assert demo.count() == 11
    for user in demo:
        client.logout()
        response = client.post("/accounts/login/", {"username": user.email, "password": DEMO_PASSWORD}, follow=True)
        assert response.status_code == 200, user.email
        final = response.redirect_chain[-1][0]
        assert "/accounts/two-factor/" not in final, user.email
        assert final != "/accounts/login/", user.email


@pytest.mark.django_db
def test_the_demo_operator_is_asked_to_set_up_two_factor(client):
    call_command("seed_demo", stdout=StringIO())
    operator = User.objects.get(role=Role.OPERATOR, email__endswith=".example")
    response = client.post("/accounts/login/", {"username": operator.email, "password": DEMO_PASSWORD}, follow=True)
    assert "/accounts/two-factor/" in response.redirect_chain[-1][0]
