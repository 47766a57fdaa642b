"""The customer picker: a search box for one of the partner's customers, for filters
on pages that a partner with thousands of customers uses (Requested Orders' Add
Filter, Upcoming expiries). It never lists every customer.

With static/js/customer_picker.js the box is a combobox: typing asks
``partners:customer_lookup`` for the first matching names and a choice fills in the
customer's id. Without JavaScript it is a plain text search by name: one customer
whose name contains the text (or is exactly it) is chosen; when several match, they
are listed as buttons to choose from. Either way the form gets a Customer, checked to
be one of the partner's, in one query."""

from django import forms
from django.urls import reverse
from django.utils.html import format_html, format_html_join

MAX_SEARCH = 100
SHOWN_MATCHES = 10


def matching_customers(customers, text: str):
    """The customers whose name contains ``text``, whatever its case, by name."""
    return customers.filter(name__icontains=text).order_by("name", "pk")


class CustomerPicker(forms.Widget):
    """A text box named ``<name>_name`` for the search, a hidden ``<name>`` for the
    chosen customer's id (so links stay ``?customer=ID``), and ``<name>_pick`` for a
    choice among the matches listed without JavaScript."""

    def value_from_datadict(self, data, files, name):
        if data.get(f"{name}_pick"):  # a choice among the matches: the text typed is done with
            return (data[f"{name}_pick"], "")
        return (data.get(name) or "", data.get(f"{name}_name") or "")

    def value_omitted_from_data(self, data, files, name):
        return not any(key in data for key in (name, f"{name}_name", f"{name}_pick"))

    def id_for_label(self, id_):
        return id_

    def render(self, name, value, attrs=None, renderer=None):
        shown = value if isinstance(value, dict) else {"id": "", "text": "", "matches": ()}
        attrs = self.build_attrs(self.attrs, attrs)
        box_id = attrs.get("id") or f"id_{name}"
        matches = ""
        if shown["matches"]:
            buttons = format_html_join(
                "",
                '<button type="submit" class="btn btn-light btn-sm" name="{}_pick" value="{}">{}</button>',
                ((name, pk, label) for pk, label in shown["matches"]),
            )
            matches = format_html(
                '<div class="picker-matches" role="group" aria-label="Matches">'
                '<p class="small">Several customers match. Choose one:</p>{}</div>',
                buttons,
            )
        return format_html(
            '<div class="picker" data-customer-picker data-lookup-url="{url}">'
            '<input type="search" id="{box_id}" name="{name}_name" value="{text}" maxlength="{max}" '
            'autocomplete="off" spellcheck="false" placeholder="Type a name" aria-describedby="{box_id}_status">'
            '<input type="hidden" name="{name}" value="{id}" data-picker-id data-picker-name="{chosen}">'
            '<ul id="{box_id}_listbox" class="picker-options" role="listbox" aria-label="Suggestions" hidden></ul>'
            '<span id="{box_id}_status" class="visually-hidden" role="status" aria-live="polite"></span>'
            "{matches}</div>",
            url=reverse("partners:customer_lookup"),
            box_id=box_id,
            name=name,
            text=shown["text"],
            max=MAX_SEARCH,
            id=shown["id"],
            chosen=shown["text"] if shown["id"] else "",
            matches=matches,
        )


class CustomerPickerField(forms.Field):
    """One of ``queryset`` (the partner's customers), by id or by a search of names.
    A forged id, or a name no customer has, is an error, never another partner's
    customer."""

    widget = CustomerPicker
    default_error_messages = {
        "invalid_choice": "Choose one of your customers.",
        "no_match": "No customer of yours matches “%(text)s”.",
        "several": "Several of your customers match “%(text)s”: choose one.",
        "too_long": f"Type at most {MAX_SEARCH} characters.",
    }

    def __init__(self, *, queryset=None, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.queryset = queryset
        self.chosen = None
        self.matches = ()

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.chosen, result.matches = None, ()
        return result

    def to_python(self, value):
        # NUL cannot be stored nor compared by PostgreSQL: never part of a name.
        if isinstance(value, tuple | list) and len(value) == 2:
            return str(value[0]).replace("\x00", "").strip(), str(value[1]).replace("\x00", "").strip()
        return (str(value or "").replace("\x00", "").strip(), "")

    def clean(self, value):
        pk, text = self.to_python(value)
        if len(text) > MAX_SEARCH:
            raise forms.ValidationError(self.error_messages["too_long"], code="too_long")
        if pk:
            customer = self.queryset.filter(pk=int(pk)).first() if pk.isdigit() and len(pk) < 12 else None
            if customer is None:
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
            # A name typed over a chosen one (without JavaScript) is a new search.
            if not text or text.casefold() == customer.name.casefold():
                self.chosen = customer
                return customer
        if not text:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return None
        found = list(matching_customers(self.queryset, text)[: SHOWN_MATCHES + 1])
        exact = [customer for customer in found if customer.name.casefold() == text.casefold()]
        if len(found) == 1 or len(exact) == 1:
            self.chosen = exact[0] if exact else found[0]
            return self.chosen
        params = {"text": text}
        if not found:
            raise forms.ValidationError(self.error_messages["no_match"], code="no_match", params=params)
        self.matches = [(customer.pk, customer.name) for customer in found[:SHOWN_MATCHES]]
        raise forms.ValidationError(self.error_messages["several"], code="several", params=params)

    def bound_data(self, data, initial):
        return data

    def prepare_value(self, value):
        """What the widget shows: the chosen customer's name and id, or the text typed."""
        if self.chosen is not None:
            return {"id": self.chosen.pk, "text": self.chosen.name, "matches": ()}
        if hasattr(value, "pk"):
            return {"id": value.pk, "text": value.name, "matches": ()}
        _, text = self.to_python(value)
        return {"id": "", "text": text[:MAX_SEARCH], "matches": self.matches}
