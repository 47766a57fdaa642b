"""seed_demo gives both Activity pages something to read."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User


@pytest.mark.django_db
def test_the_demo_fills_the_partner_and_customer_activity(client):
    call_command("seed_demo", stdout=StringIO())
    client.force_login(User.objects.get(email="alice@northwind.example"))
    partner = re.sub(r"\s+", " ", client.get("/partner/activity/").content.decode())
    assert "Alice Archer (Northwind Security, manage mode) entered manage mode for Acme Manufacturing" in partner
    assert "Erin Evans (Globex Retail) requested 30 licences" in partner
    client.force_login(User.objects.get(email="dana@acme.example"))
    customer = re.sub(r"\s+", " ", client.get("/activity/").content.decode())
    assert "Dana Doyle (Acme Manufacturing) allocated" in customer
    assert "Alice Archer (Northwind Security, manage mode) requested 47 licences" in customer
    assert "Globex" not in customer
