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


class RenewalRequestForm(forms.Form):
    """Request renewal for the ticked companies: ``customer`` (ids, repeated) and a
    ``quantity-<id>`` for each. Bounded: at most ``max_customers`` companies, only the
    partner's own active ones, each quantity as any order's (validate_quantity)."""

    def __init__(self, data, *, partner, max_customers: int):
        super().__init__(data)
        self.partner = partner
        self.max_customers = max_customers

    def clean(self):
        from django.core.exceptions import ValidationError as CoreValidationError

        from licences.services import validate_quantity

        raw_ids = list(dict.fromkeys(self.data.getlist("customer")))
        if not raw_ids:
            raise forms.ValidationError("Tick at least one company to renew.")
        if len(raw_ids) > self.max_customers:
            raise forms.ValidationError(f"Renew at most {self.max_customers} companies at once.")
        if not all(raw.isdigit() and len(raw) <= 12 for raw in raw_ids):
            raise forms.ValidationError("Choose only your own companies.")
        ids = [int(raw) for raw in raw_ids]
        customers = customers_of(self.partner).in_bulk(ids)
        if len(customers) != len(ids):
            raise forms.ValidationError("Choose only your own companies.")
        quantities = {}
        for pk in ids:
            raw_quantity = (self.data.get(f"quantity-{pk}") or "").strip()
            quantity = int(raw_quantity) if raw_quantity.isdigit() and len(raw_quantity) <= 9 else None
            try:
                validate_quantity(quantity)
            except CoreValidationError as error:
                raise forms.ValidationError(f"{customers[pk].name}: {error.messages[0]}") from None
            quantities[pk] = quantity
        return {"quantities": quantities, "customers": customers}


class SeatAlertsForm(forms.Form):
    """The customer's optional seat alert (the one for waiting learners is always on)."""

    alert_at_90_percent = forms.BooleanField(
        label="Also email its managers when 90 % of its licences are used", required=False
    )
