"""Forms of the Learners section and the Expired Licences tab. Each bounds every
input: lengths, numbers of ids, column indexes within the file."""

from django import forms

from accounts.models import normalise_email
from common.uploads import too_large
from learners.csv_files import looks_like_email
from learners.reads import DEFAULT_WINDOW, EXPIRING_WINDOWS

MAX_TICKED = 1_000  # one page shows PAGE_SIZE learners; Select All sends the search instead


class LearnerSearchForm(forms.Form):
    LICENCE_CHOICES = [
        ("", "Any licence"),
        ("valid", "Valid licence"),
        ("expired", "Expired licence"),
        ("none", "No licence yet"),
        ("deactivated", "Deactivated"),
        ("expiring", f"Expiring within {DEFAULT_WINDOW} days"),
    ]
    q = forms.CharField(required=False, max_length=100, strip=True, label="Search learners")
    licence = forms.ChoiceField(required=False, choices=LICENCE_CHOICES, label="Licence")

    def values(self) -> tuple[str, str]:
        if self.is_valid():
            return self.cleaned_data["q"], self.cleaned_data["licence"]
        return "", ""


class ExpiredSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, strip=True, label="Search expired learners")

    def search(self) -> str:
        return self.cleaned_data["q"] if self.is_valid() else ""


WINDOW_ERROR = "Choose a window of 7, 30, 60 or 90 days."


def window_field(required=False):
    return forms.TypedChoiceField(
        required=required,
        coerce=int,
        empty_value=DEFAULT_WINDOW,
        choices=[(str(d), f"{d} days") for d in EXPIRING_WINDOWS],
        label="Expiring within",
        error_messages={"invalid_choice": WINDOW_ERROR, "required": WINDOW_ERROR},
    )


class ExpiringSearchForm(forms.Form):
    """The Expiring Soon tab's search and window (7, 30, 60 or 90 days; 30 by default)."""

    q = forms.CharField(required=False, max_length=100, strip=True, label="Search expiring learners")
    days = window_field()

    def search(self) -> str:
        return self.cleaned_data["q"] if self.is_valid() else ""

    def window(self) -> int:
        return self.cleaned_data["days"] if self.is_valid() else DEFAULT_WINDOW


class AddLearnerForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Email")
    name = forms.CharField(max_length=150, required=False, label="Name")

    def clean_email(self):
        email = normalise_email(self.cleaned_data["email"])
        if not looks_like_email(email):
            raise forms.ValidationError("Enter a valid email address.")
        return email


class CsvUploadForm(forms.Form):
    file = forms.FileField(label="Upload your User CSV File")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        refusal = too_large(upload.size)
        if refusal:
            raise forms.ValidationError(refusal)
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


def _order_choices(orders):
    choices = [("", "Latest-expiring orders first")]
    for order in orders:
        choices.append(
            (str(order.pk), f"Order #{order.pk} · {order.free_seats} free · expires {order.expires_at:%d %b %Y}")
        )
    return choices


class SeatSourceMixin:
    """``order``: the order seats come from; empty means the default rule."""

    def _add_order_field(self, orders):
        self.fields["order"] = forms.TypedChoiceField(
            required=False, coerce=int, empty_value=None, choices=_order_choices(orders), label="Licences from"
        )


class LearnerIdsField(forms.Field):
    """Ticked learners: whole numbers, at most MAX_TICKED of them. Whether each is an
    expired learner of this customer is the service's business."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value or []
        if len(values) > MAX_TICKED:
            raise forms.ValidationError(f"Tick at most {MAX_TICKED:,} learners, or use Select All.")
        try:
            ids = {int(v) for v in values}
        except (TypeError, ValueError):
            raise forms.ValidationError("Choose learners from the list.") from None
        if any(not 0 < i < 2**63 for i in ids):
            raise forms.ValidationError("Choose learners from the list.")
        return sorted(ids)


class RenewSelectionForm(SeatSourceMixin, forms.Form):
    """Select users Manually: ticked learners, or Select All with the search."""

    select_all = forms.BooleanField(required=False, label="Select All")
    q = forms.CharField(required=False, max_length=100, strip=True)
    learner = LearnerIdsField(required=False)

    def __init__(self, *args, orders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._add_order_field(orders)

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("select_all") and not data.get("learner"):
            raise forms.ValidationError("Tick the learners to renew, or Select All.")
        return data


class RenewEarlySelectionForm(RenewSelectionForm):
    """Expiring Soon → Renew Early: ticked learners, or Select All with the search and
    the window."""

    days = window_field(required=True)

    def clean(self):
        data = forms.Form.clean(self)
        if not self.errors and not data.get("select_all") and not data.get("learner"):
            raise forms.ValidationError("Tick the learners to renew early, or Select All.")
        return data


class ColumnForm(SeatSourceMixin, forms.Form):
    """From the dropdown, the spreadsheet column containing the email (and, on the
    Expiring Soon tab, the window)."""

    column = forms.TypedChoiceField(coerce=int, label="Column containing the Email")

    def __init__(self, *args, columns=(), orders=None, windows=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["column"].choices = [(str(i), name) for i, name in enumerate(columns)]
        if orders is not None:
            self._add_order_field(orders)
        if windows:
            self.fields["days"] = window_field()


class ImportAllocationForm(ColumnForm):
    expected = forms.CharField(max_length=400)


class LearnerColumnsForm(ColumnForm):
    name_column = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Column containing the Name"
    )

    def __init__(self, *args, columns=(), **kwargs):
        super().__init__(*args, columns=columns, **kwargs)
        self.fields["name_column"].choices = [("", "No name column"), *self.fields["column"].choices]


class CarryOverForm(forms.Form):
    on = forms.TypedChoiceField(
        coerce=lambda v: v == "on",
        choices=[("on", "On"), ("off", "Off")],
        label="When licences expire, move their active learners to free licences in later orders",
    )

    def __init__(self, *args, initial=None, **kwargs):
        if initial is not None:
            initial = {"on": "on" if initial.get("on") else "off"}
        super().__init__(*args, initial=initial, **kwargs)
