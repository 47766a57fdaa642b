from django import forms

from common.widgets import QuickSelect
from customers.models import known_time_zones


class CompanySearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search companies")


class TwoFactorRequirementForm(forms.Form):
    require_two_factor = forms.BooleanField(
        required=False, label="Require two-factor sign-in for every manager of this partner"
    )


class PartnerTimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(label="Time zone", widget=QuickSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name.replace("_", " ")) for name in sorted(known_time_zones())]
