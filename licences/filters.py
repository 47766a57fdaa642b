"""Add Filter on the partner's Requested Orders: by customer, status, requested date
range, quantity range and requester. Filters combine, and live in the query string so
that a filtered list can be bookmarked and shared."""

import copy
import datetime
import functools

import django_filters
from django import forms
from django.conf import settings
from django.db.models import DateField, F, Func
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.http import QueryDict
from django.utils import dateformat

from accounts.models import Role
from common.widgets import QuickDateInput, QuickNumberInput, QuickSelect
from licences.models import OrderStatus
from partners.picker import CustomerPickerField

ANY_STATUS = "any"
STATUS_CHOICES = [*OrderStatus.choices, (ANY_STATUS, "Any status")]
FIRST_DATE, LAST_DATE = datetime.date(2000, 1, 1), datetime.date(2999, 12, 31)
# The widest gap between a wall clock and UTC (UTC+14, Kiribati; UTC-12).
MAX_UTC_OFFSET = datetime.timedelta(hours=14)


class LocalDate(Func):
    """The date on the customer's wall clock: timezone(customer.time_zone, at)::date."""

    function = "timezone"
    template = "(%(function)s(%(expressions)s))::date"
    output_field = DateField()


def _requested_on():
    return LocalDate(F("customer__time_zone"), F("requested_at"))


def _utc_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def earliest_requested_at(day: datetime.date) -> datetime.datetime:
    """No order requested on ``day``, on any customer's calendar, was requested
    before this moment (the index's bound of Requested from)."""
    return _utc_midnight(day) - MAX_UTC_OFFSET


def latest_requested_at(day: datetime.date) -> datetime.datetime:
    """Every order requested on ``day``, on any customer's calendar, was requested
    before this moment (the index's bound of Requested to)."""
    return _utc_midnight(day + datetime.timedelta(days=1)) + MAX_UTC_OFFSET


def _date_between(first, last):
    def validate(value):
        if value is not None and not first <= value <= last:
            shown = (dateformat.format(day, "j M Y") for day in (first, last))
            raise forms.ValidationError("Enter a date between {} and {}.".format(*shown))

    return validate


# --- The customer choice: a partner may have thousands of customers -------------------


class CustomerFilter(django_filters.Filter):
    """A search for one of the partner's customers (partners.picker), never a list
    of them all."""

    field_class = CustomerPickerField


# --- The filter set -------------------------------------------------------------------


CUSTOMER_MANAGERS = "customers"


def requested_by(orders, requester: str):
    """The orders ``requester`` requested: the customers' own managers
    (``CUSTOMER_MANAGERS``), or one partner manager, by id (the Requested by filter)."""
    if requester == CUSTOMER_MANAGERS:
        return orders.filter(requested_by__role=Role.CUSTOMER_MANAGER)
    return orders.filter(requested_by_id=int(requester))


def _requester_choices(managers):
    """Who may have requested an order: one of the partner's managers (in manage mode),
    by name, or the customer's own managers. A short list, whatever the number of
    customers; a forged id is an invalid choice."""
    named = [(str(pk), full_name or email) for pk, full_name, email in managers.values_list("pk", "full_name", "email")]
    return [(CUSTOMER_MANAGERS, "Customer managers"), *named]


class RequestedOrderFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        for low, high, message in (
            ("requested_from", "requested_to", "The start date must not be after the end date."),
            ("quantity_min", "quantity_max", "The smallest number of licences must not be above the largest."),
        ):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, message)
        return data


class WholeNumberFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField  # NumberFilter's DecimalField would take "1.5"


def _quantity_filter(label, lookup_expr):
    return WholeNumberFilter(
        label=label,
        field_name="quantity",
        lookup_expr=lookup_expr,
        min_value=1,
        max_value=settings.LICENCE_ORDER_MAX_QUANTITY,
        widget=QuickNumberInput(attrs={"min": 1, "step": 1, "inputmode": "numeric"}),
    )


def _date_filter(label, method):
    return django_filters.DateFilter(
        label=label,
        method=method,
        validators=[_date_between(FIRST_DATE, LAST_DATE)],
        widget=QuickDateInput(attrs={"type": "date"}),
    )


class RequestedOrderFilter(django_filters.FilterSet):
    """The Requested Orders filters, for one partner.

    ``status`` defaults to requested when the query string does not name one (the
    list is "Requested Orders"); "any" shows every status."""

    customer = CustomerFilter(
        label="Customer",
        queryset=None,  # the partner's customers, set per request
        method="filter_customer",
    )
    status = django_filters.ChoiceFilter(
        label="Status",
        choices=STATUS_CHOICES,
        empty_label=None,
        method="filter_status",
        error_messages={"invalid_choice": "Choose a status from the list."},
        # The default, left out of the URL by static/js/app.js.
        widget=QuickSelect(attrs={"data-default": OrderStatus.REQUESTED}),
    )
    requested_from = _date_filter("Requested from", "filter_requested_from")
    requested_to = _date_filter("Requested to", "filter_requested_to")
    quantity_min = _quantity_filter("Licences from", "gte")
    quantity_max = _quantity_filter("Licences to", "lte")
    requester = django_filters.ChoiceFilter(
        label="Requested by",
        choices=[],  # the partner's managers, set per request
        empty_label="Anyone",
        method="filter_requester",
        error_messages={"invalid_choice": "Choose one of the people in the list."},
        widget=QuickSelect,
    )

    class Meta:
        form = RequestedOrderFilterForm
        fields = []

    def __init__(self, data, queryset, *, customers, managers):
        """``data``: the query string; ``queryset``: the partner's orders;
        ``customers`` and ``managers``: the partner's, the only valid choices."""
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("status"):
            data["status"] = OrderStatus.REQUESTED
        super().__init__(data, queryset)
        fields = self.form.fields  # this request's own copies
        fields["customer"].queryset = customers.order_by("name", "pk")
        # Read once, and only if the form is shown or a requester is asked for: a
        # callable's choices are evaluated when used.
        fields["requester"].choices = functools.cache(lambda: _requester_choices(managers))

    @classmethod
    @functools.cache
    def _form_class(cls):
        fields = {name: copy.deepcopy(filter_).field for name, filter_ in cls.base_filters.items()}
        return type(f"{cls.__name__}Form", (cls._meta.form,), fields)

    @classmethod
    def form_without_choices(cls, data):
        """The filters' form alone, for values without a customer or requester (the
        partner's choices, which only the filter set knows): the same fields' checks
        and the form's own, on the fields ``data`` names (a form copies each of its
        fields), without building the filter set."""
        return cls._form_of(frozenset(data) - {"customer", "requester"})(data)

    @classmethod
    @functools.cache
    def _form_of(cls, names: frozenset):
        fields = {name: field for name, field in cls._form_class().base_fields.items() if name in names}
        return type(f"{cls.__name__}Form", (cls._meta.form,), fields)

    def get_form_class(self):
        # The same for every request (the partner's choices are set on each form's own
        # copies of the fields), so built once rather than on every page view.
        return self._form_class()

    # --- the filters ---------------------------------------------------------------
    def filter_customer(self, queryset, name, customer):
        return queryset.filter(customer=customer)

    def filter_status(self, queryset, name, value):
        return queryset if value == ANY_STATUS else queryset.filter(status=value)

    def filter_requested_from(self, queryset, name, day):
        # The first condition lets the index narrow the rows; the second is exact, on
        # the date the customer saw (the list shows each order in its customer's zone).
        return queryset.filter(GreaterThanOrEqual(_requested_on(), day), requested_at__gte=earliest_requested_at(day))

    def filter_requested_to(self, queryset, name, day):
        return queryset.filter(LessThanOrEqual(_requested_on(), day), requested_at__lt=latest_requested_at(day))

    def filter_requester(self, queryset, name, value):
        return requested_by(queryset, value)

    # --- for the page --------------------------------------------------------------
    def active_filters(self) -> list[dict]:
        """The filters in force, as chips: label, value, and the URL without it."""
        if not self.is_valid():
            return []
        chips = []
        for name, value in self.form.cleaned_data.items():
            if value in (None, "") or (name == "status" and value == OrderStatus.REQUESTED):
                continue
            if name == "customer":
                shown = value.name
            elif name in ("status", "requester"):
                shown = dict(self.form.fields[name].choices)[value]
            elif isinstance(value, datetime.date):
                shown = dateformat.format(value, "j M Y")
            elif isinstance(value, int):
                shown = f"{value:,}"
            else:
                shown = value
            label = self.form.fields[name].label
            chips.append({"name": name, "label": label, "value": shown, "remove_url": self.url_without(name)})
        return chips

    def url_without(self, *names) -> str:
        """This list's query string less ``names``, the page number and anything not a
        filter; "?" when nothing is left."""
        query = QueryDict(mutable=True)
        for name in self.filters:
            if name not in names and self.data.get(name):
                query[name] = self.data[name]
        # The customer by id, however it was chosen (a name searched without JavaScript).
        chosen = self.form.fields["customer"].chosen
        if "customer" not in names and chosen is not None:
            query["customer"] = chosen.pk
        if query.get("status") == OrderStatus.REQUESTED:
            del query["status"]  # the default; keeps shared links short
        return f"?{query.urlencode()}"
