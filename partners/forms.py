from django import forms


class CompanySearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search companies")
