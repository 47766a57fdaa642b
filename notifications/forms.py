from django import forms

from partners.services import customers_of


class UpcomingExpiriesFilter(forms.Form):
    """Narrow the partner's Upcoming expiries to one of their own customers."""

    customer = forms.ModelChoiceField(queryset=None, required=False, empty_label="All companies", label="Company")

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the partner's own companies are choices: another partner's id is invalid.
        self.fields["customer"].queryset = customers_of(partner).order_by("name")
