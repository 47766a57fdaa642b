"""In Chromium: a partner manager sets the default schedule, then one company's own
from Company → Actions → Notification settings, and turns its 90 % seat alert on."""

from playwright.sync_api import expect

from notifications.models import CustomerNotificationSettings, PartnerNotificationSettings, SeatAlertSettings
from tests.builders import sign_in


def test_a_partner_manager_sets_the_default_and_a_companys_own(page, world):
    sign_in(page, world["alice"].email)
    page.get_by_role("link", name="Notification settings").click()
    expect(page.get_by_role("heading", name="Notification settings")).to_be_visible()
    field = page.get_by_label("Reminders before expiry")
    expect(field).to_have_value("72 hours")
    field.fill("100 days")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("from 1 hour to 90 days")
    page.get_by_label("Reminders before expiry").fill("30 days, 72 hours")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Reminders are now sent 30 days, 72 hours before expiry")).to_be_visible()

    page.get_by_role("link", name="Company", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Acme Manufacturing")
    row.get_by_text("Actions").click()
    row.get_by_role("link", name="Notification settings").click()
    expect(page.get_by_role("heading", name="Notification settings: Acme Manufacturing")).to_be_visible()
    page.get_by_label("Use the partner's default schedule").uncheck()
    page.get_by_label("Or its own").fill("7d")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Reminders for Acme Manufacturing are now sent 7 days before expiry.")).to_be_visible()

    # The optional seat alert, on the same page.
    page.get_by_label("Also email its managers when 90 % of its licences are used").check()
    page.get_by_role("button", name="Update seat alerts").click()
    expect(page.get_by_text("The 90 % seat alert for Acme Manufacturing is now on.")).to_be_visible()
    expect(page.get_by_label("Also email its managers when 90 % of its licences are used")).to_be_checked()

    assert SeatAlertSettings.objects.get(customer=world["acme"]).alert_at_90_percent
    assert PartnerNotificationSettings.objects.get().reminder_leads == [720, 72]
    assert CustomerNotificationSettings.objects.get(customer=world["acme"]).reminder_leads == [168]
