import re

from django import forms
from django.conf import settings

# ASCII digits 0-9 (not other scripts' digits, such as "１２"), optionally grouped in
# thousands with a comma or a space ("1,500" or "1 500"), optionally negative so that
# "-5" gets the range message rather than "not a number".
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,3}(?:[ ,][0-9]{3})+|-?[0-9]+", re.ASCII)
MAX_INPUT_LENGTH = 20


class RequestLicencesForm(forms.Form):
    """Step 1 of the guide: "Specify the number of licences required", then Save.

    The number is checked here, strictly, so that the person sees a clear message;
    the service checks it again. "1.5", "1e12", "ten" and "" are not whole numbers;
    0, -5 and anything above the configured maximum are out of range."""

    quantity = forms.CharField(
        label="Number of licences",
        max_length=MAX_INPUT_LENGTH,
        error_messages={"required": "Enter the number of licences."},
        widget=forms.NumberInput(attrs={"min": 1, "step": 1, "inputmode": "numeric", "autofocus": True}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_quantity = settings.LICENCE_ORDER_MAX_QUANTITY
        field = self.fields["quantity"]
        field.widget.attrs["max"] = self.max_quantity
        field.error_messages["max_length"] = self.range_message
        field.help_text = (
            f"A whole number from 1 to {self.max_quantity:,}, in the digits 0 to 9; thousands may be "
            "grouped with a comma or a space (1500, 1,500 or 1 500)."
        )

    @property
    def range_message(self) -> str:
        return f"Enter a number of licences from 1 to {self.max_quantity:,}."

    def clean_quantity(self) -> int:
        raw = self.cleaned_data["quantity"].strip()
        if not WHOLE_NUMBER.fullmatch(raw):
            raise forms.ValidationError("Enter a whole number of licences, such as 25.", code="invalid")
        quantity = int(raw.replace(",", "").replace(" ", ""))
        if not 1 <= quantity <= self.max_quantity:
            raise forms.ValidationError(self.range_message, code="out_of_range")
        return quantity


class OrderActionForm(forms.Form):
    """Assign or Cancel from the Requested Orders list: which order, and the list's
    filters to go back to."""

    order = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    return_query = forms.CharField(required=False, max_length=2000)
