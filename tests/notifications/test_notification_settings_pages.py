"""The Notification settings pages: the partner's default and a customer's override
(Company → Actions); only the partner's own customers; bad input gets a message."""

from accounts.models import AuditEvent
from notifications.models import CustomerNotificationSettings, PartnerNotificationSettings

PARTNER_URL = "/partner/notifications/"


def customer_url(customer):
    return f"/partner/companies/{customer.pk}/notifications/"


def test_the_partner_sets_its_default(client, world):
    client.force_login(world["alice"])
    page = client.get(PARTNER_URL).content.decode()
    assert 'value="72 hours"' in page
    response = client.post(PARTNER_URL, {"reminders": "30d, 7 days, 72h"}, follow=True)
    assert "Reminders are now sent 30 days, 7 days, 72 hours before expiry" in response.content.decode()
    assert PartnerNotificationSettings.objects.get(partner=world["alice"].partner).reminder_leads == [720, 168, 72]


def test_bad_lead_times_get_a_message_and_change_nothing(client, world):
    client.force_login(world["alice"])
    for value, message in [
        ("", "This field is required."),
        ("soon", "is not a number of hours or days"),
        ("0h", "from 1 hour to 90 days"),
        ("91 days", "from 1 hour to 90 days"),
        ("9999999999999 days", "is not a number of hours or days"),
        (",,", "Give at least one reminder."),
    ]:
        response = client.post(PARTNER_URL, {"reminders": value})
        assert response.status_code == 200, value
        assert message in response.content.decode(), value
    assert not PartnerNotificationSettings.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.REMINDER_SCHEDULE_CHANGED).exists()


def test_a_customer_override_only_for_the_partners_own(client, world):
    client.force_login(world["alice"])
    assert client.get(customer_url(world["initech"])).status_code == 404
    assert client.post(customer_url(world["initech"]), {"reminders": "1d"}).status_code == 404
    assert client.get("/partner/companies/999999/notifications/").status_code == 404
    response = client.post(customer_url(world["acme"]), {"reminders": "14 days"}, follow=True)
    assert "Reminders for Acme Manufacturing are now sent 14 days before expiry." in response.content.decode()
    assert CustomerNotificationSettings.objects.get(customer=world["acme"]).reminder_leads == [336]
    response = client.post(customer_url(world["acme"]), {"follow_default": "on", "reminders": ""}, follow=True)
    assert "follows your default schedule again" in response.content.decode()
    assert not CustomerNotificationSettings.objects.exists()


def test_only_partner_managers_may_open_them(client, world):
    assert client.get(PARTNER_URL).status_code == 302
    client.force_login(world["dana"])
    assert client.get(PARTNER_URL).status_code == 403
    assert client.get(customer_url(world["acme"])).status_code == 403


def test_the_companies_actions_menu_links_to_it(client, world):
    client.force_login(world["alice"])
    html = client.get("/partner/companies/").content.decode()
    assert f'href="{customer_url(world["acme"])}">Notification settings</a>' in html
    assert f'href="{PARTNER_URL}"' in html
