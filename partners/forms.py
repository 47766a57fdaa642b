from django import forms


class CompanySearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search companies")


class TwoFactorRequirementForm(forms.Form):
    require_two_factor = forms.BooleanField(
        required=False, label="Require two-factor sign-in for every manager of this partner"
    )
