"""A partner manager sets the partner's time zone on Notification settings (its
digest's Monday 08:00 and its own events read on it); audited, bounded to known zones."""

import pytest

from accounts.models import AuditEvent
from partners.models import Partner

SETTINGS = "/partner/notifications/"
TIME_ZONE = "/partner/time-zone/"


@pytest.mark.django_db
def test_a_partner_manager_sets_the_time_zone_and_it_is_audited(client, world):
    alice = world["alice"]
    client.force_login(alice)
    page = client.get(SETTINGS).content.decode()
    assert "Your time zone" in page and '<option value="Europe/Dublin">Europe/Dublin</option>' in page
    response = client.post(TIME_ZONE, {"time_zone": "Europe/Dublin"}, follow=True)
    assert "Your time zone is now Europe/Dublin." in response.content.decode()
    assert Partner.objects.get(pk=alice.partner_id).time_zone == "Europe/Dublin"
    event = AuditEvent.objects.get(action=AuditEvent.Action.PARTNER_TIME_ZONE_CHANGED)
    assert (event.actor, event.partner_id, event.details["after"]) == (alice, alice.partner_id, "Europe/Dublin")
    assert '<option value="Europe/Dublin" selected>' in client.get(SETTINGS).content.decode()
    client.post(TIME_ZONE, {"time_zone": "Europe/Dublin"})  # unchanged: no second row
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PARTNER_TIME_ZONE_CHANGED).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["Mars/Olympus", "", "Europe/London\x00", "x" * 500])
def test_an_unknown_time_zone_changes_nothing_and_says_why(client, world, value):
    client.force_login(world["alice"])
    before = Partner.objects.get(pk=world["alice"].partner_id).time_zone
    response = client.post(TIME_ZONE, {"time_zone": value}, follow=True)
    assert response.status_code == 200
    assert "Choose a time zone from the list. Nothing was changed." in response.content.decode()
    assert Partner.objects.get(pk=world["alice"].partner_id).time_zone == before


@pytest.mark.django_db
def test_only_partner_managers_set_it_and_only_for_their_own_partner(client, world):
    client.force_login(world["dana"])
    before = Partner.objects.get(pk=world["alice"].partner_id).time_zone
    assert client.post(TIME_ZONE, {"time_zone": "Europe/Dublin"}).status_code == 403
    assert Partner.objects.get(pk=world["alice"].partner_id).time_zone == before
    client.force_login(world["charlie"])
    client.post(TIME_ZONE, {"time_zone": "Asia/Tokyo"})
    assert Partner.objects.get(pk=world["charlie"].partner_id).time_zone == "Asia/Tokyo"
    assert Partner.objects.get(pk=world["alice"].partner_id).time_zone != "Asia/Tokyo"
    assert client.get(TIME_ZONE).status_code == 405
