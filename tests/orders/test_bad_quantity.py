"""Rule 7: a bad number of licences gets a clear message and creates nothing."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent
from licences.forms import RequestLicencesForm
from licences.models import LicenceOrder
from licences.services import request_order, validate_quantity
from tests.builders import enter_manage_mode

REQUEST = "/licences/orders/request/"
WHOLE = "Enter a whole number of licences, such as 25."
RANGE = "Enter a number of licences from 1 to 100,000."


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", RANGE),
        ("-5", RANGE),
        ("100001", RANGE),
        ("1000000000000", RANGE),  # 10^12
        ("1e12", WHOLE),
        ("ten", WHOLE),
        ("1.5", WHOLE),
        ("1,5", WHOLE),
        ("0x10", WHOLE),
        ("", "Enter the number of licences."),
        ("   ", "Enter the number of licences."),
        ("9" * 21, RANGE),  # beyond the field's length
    ],
)
def test_bad_quantity_is_refused_with_a_clear_message(client, alice, acme, quantity, message):
    client.force_login(alice)
    enter_manage_mode(client, acme)
    response = client.post(REQUEST, {"quantity": quantity})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LicenceOrder.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ORDER_REQUESTED).exists()


def test_missing_field_is_refused(client, dana):
    client.force_login(dana)
    response = client.post(REQUEST, {})
    assert "Enter the number of licences." in response.content.decode()
    assert not LicenceOrder.objects.exists()


@pytest.mark.parametrize(("raw", "quantity"), [("1", 1), (" 25 ", 25), ("1,500", 1500), ("100000", 100_000)])
def test_good_quantities(raw, quantity):
    form = RequestLicencesForm({"quantity": raw})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["quantity"] == quantity


def test_maximum_follows_the_setting(settings):
    settings.LICENCE_ORDER_MAX_QUANTITY = 50
    assert RequestLicencesForm({"quantity": "50"}).is_valid()
    form = RequestLicencesForm({"quantity": "51"})
    assert form.errors["quantity"] == ["Enter a number of licences from 1 to 50."]


@pytest.mark.parametrize("quantity", [0, -5, 10**12, 1.5, "10", None, True])
def test_service_refuses_bad_quantities_too(alice, acme, quantity):
    with pytest.raises(ValidationError):
        request_order(acme, quantity, acting_user=alice)
    assert not LicenceOrder.objects.exists()


def test_validate_quantity_accepts_the_bounds():
    assert validate_quantity(1) == 1
    assert validate_quantity(100_000) == 100_000
