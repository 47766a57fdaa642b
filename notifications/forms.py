import re

from django import forms

from notifications.models import MAX_LEAD_HOURS, MIN_LEAD_HOURS, lead_label
from partners.picker import CustomerPickerField
from partners.services import customers_of


class UpcomingExpiriesFilter(forms.Form):
    """Narrow the partner's Upcoming expiries to one of their own customers, found by
    a search of names (partners.picker), not a list of them all."""

    customer = CustomerPickerField(label="Company", error_messages={"invalid_choice": "Choose one of your companies."})

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the partner's own companies are choices: another partner's id is invalid.
        self.fields["customer"].queryset = customers_of(partner).order_by("name")


LEAD_PATTERN = re.compile(r"^\s*(\d{1,4})\s*(h|hours?|d|days?)\s*$", re.IGNORECASE)


def format_leads(hours) -> str:
    """Lead times as the form shows them: "30 days, 7 days, 72 hours"."""
    return ", ".join(lead_label(h) for h in sorted(hours, reverse=True))


class ReminderScheduleForm(forms.Form):
    """Reminder lead times, as people write them: "30 days, 7 days, 72 hours" (or
    "30d, 7d, 72h"). Each from 1 hour to 90 days before expiry."""

    reminders = forms.CharField(
        label="Reminders before expiry",
        max_length=200,
        help_text="Hours or days before the licences expire, separated by commas: for example 30 days, 7 days, 72 hours.",
    )

    def clean_reminders(self):
        leads = set()
        for part in self.cleaned_data["reminders"].split(","):
            if not part.strip():
                continue
            match = LEAD_PATTERN.match(part)
            if match is None:
                raise forms.ValidationError(
                    f"“{part.strip()[:30]}” is not a number of hours or days (like 72 hours or 7 days)."
                )
            number, unit = int(match.group(1)), match.group(2).lower()
            hours = number * 24 if unit.startswith("d") else number
            if not MIN_LEAD_HOURS <= hours <= MAX_LEAD_HOURS:
                raise forms.ValidationError("Each reminder is from 1 hour to 90 days before expiry.")
            leads.add(hours)
        if not leads:
            raise forms.ValidationError("Give at least one reminder.")
        if len(leads) > 10:
            raise forms.ValidationError("At most 10 reminders.")
        return tuple(sorted(leads, reverse=True))


class CustomerScheduleForm(ReminderScheduleForm):
    """A customer's reminders: its partner's default, or its own."""

    follow_default = forms.BooleanField(label="Use the partner's default schedule", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reminders"].required = False

    def clean_reminders(self):
        if self.data.get("follow_default"):
            return None
        if not self.cleaned_data["reminders"].strip():
            raise forms.ValidationError("Give at least one reminder, or use the partner's default.")
        return super().clean_reminders()
