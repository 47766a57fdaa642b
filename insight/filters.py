"""The Activity filters, in the query string: who, kind of event, customer (the
partner's page: a name search, not a select of thousands), and a date range on the
clock the page shows (the customer's; on the partner's page, each event's customer's,
the partner's own events on UTC)."""

import datetime
import functools

import django_filters
from django import forms
from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.http import QueryDict
from django.utils import dateformat, formats
from django.utils.choices import BaseChoiceIterator, normalize_choices
from django_filters.constants import EMPTY_VALUES

from accounts.models import AuditEvent, Role, User
from common.widgets import QuickDateInput, QuickSelect, QuickTextInput
from customers.models import Customer
from insight.activity import ACTOR_COLUMNS, CUSTOMER_COLUMNS, from_row
from licences.filters import FIRST_DATE, LAST_DATE, MAX_UTC_OFFSET, LocalDate

PLATFORM = "platform"
CUSTOMER_MANAGERS = "customers"
MAX_SEARCH = 100


def _local_midnight(day: datetime.date, tz) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)


class ActivityFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and first > last:
            self.add_error("date_to", "The start date must not be after the end date.")
        return data


def _validate_day(value):
    if value is not None and not FIRST_DATE <= value <= LAST_DATE:
        shown = (dateformat.format(day, "j M Y") for day in (FIRST_DATE, LAST_DATE))
        raise forms.ValidationError("Enter a date between {} and {}.".format(*shown))


class _IsoFirst:
    """The date inputs send ISO dates: that format tried first, then the locale's (the
    locale's come first otherwise, each a strptime that fails by raising)."""

    def __iter__(self):
        yield "%Y-%m-%d"
        yield from formats.get_format("DATE_INPUT_FORMATS")


def _date_filter(label, method):
    return django_filters.DateFilter(
        label=label,
        method=method,
        validators=[_validate_day],
        input_formats=_IsoFirst(),
        widget=QuickDateInput(attrs={"type": "date"}),
    )


_CUSTOMERS_NAMED = (
    f"SELECT {', '.join(CUSTOMER_COLUMNS)} FROM {connection.ops.quote_name(Customer._meta.db_table)}"  # noqa: S608
    " WHERE partner_id = %s AND strpos(upper(name), upper(%s)) > 0"
)


def _managers(where, params):
    """(pk, full_name, email, role, partner_id, customer_id) of the users ``where``
    says, by name (activity.ACTOR_COLUMNS, in that order). Written out:
    every Activity page reads them, and the ORM spent on compiling this (an OR of two
    conditions, the ordering) twice what the database spends on running it."""
    users = connection.ops.quote_name(User._meta.db_table)
    sql = f"SELECT {', '.join(ACTOR_COLUMNS)} FROM {users} WHERE {where} ORDER BY full_name, email"  # noqa: S608 (no value in it)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class FixedChoices(BaseChoiceIterator):
    """Choices known once per process (the kinds of event), neither copied with each
    request's form nor normalized again each time the select or the validation walks
    them: Django leaves a choice iterator as it is."""

    def __init__(self, choices):
        self.choices = tuple(normalize_choices(choices))

    def __iter__(self):
        return iter(self.choices)

    def __len__(self):
        return len(self.choices)

    def __deepcopy__(self, memo):
        return self  # a tuple of text: nothing to copy


def _people(rows):
    """(id, name) choices from _managers' rows."""
    return [(str(pk), full_name or email) for pk, full_name, email, *_ in rows]


class ActivityFilter(django_filters.FilterSet):
    """One partner's (``partner``) or one customer's (``customer``) Activity filters."""

    who = django_filters.ChoiceFilter(
        label="Who",
        choices=[],  # set per request
        empty_label="Anyone",
        method="filter_who",
        error_messages={"invalid_choice": "Choose one of the people in the list."},
        widget=QuickSelect,  # rendered in one pass, not a template per option
    )
    kind = django_filters.ChoiceFilter(
        label="Event",
        choices=FixedChoices(AuditEvent.Action.choices),
        empty_label="Any event",
        method="filter_kind",
        error_messages={"invalid_choice": "Choose an event from the list."},
        widget=QuickSelect,
    )
    customer = django_filters.CharFilter(
        label="Customer",
        method="filter_customer",
        max_length=MAX_SEARCH,
        widget=QuickTextInput(attrs={"type": "search", "placeholder": "Customer name", "maxlength": MAX_SEARCH}),
    )
    date_from = _date_filter("From", "filter_from")
    date_to = _date_filter("To", "filter_to")

    class Meta:
        form = ActivityFilterForm
        fields = []

    def __init__(self, data, queryset, *, partner=None, customer=None):
        # Not django-filter's __init__: it deep-copies every filter and builds their
        # fields and a form class on each request. The filters hold nothing of a
        # request (filter_queryset calls their methods on this filterset), so they and
        # the form class are built once per process for each kind of log; the form
        # still copies its fields, and who's choices are this viewer's.
        self.partner, self.customer = partner, customer
        self.customers_named = None  # id: Customer, once a name search has found them
        self.is_bound = data is not None
        self.data = data if data is not None else QueryDict()
        self.queryset, self.request, self.form_prefix = queryset, None, None
        self.filters, self._form_class = _filters_and_form(type(self), customer_log=customer is not None)
        self.form.fields["who"].choices = functools.cache(self._who_choices)

    def get_form_class(self):
        return self._form_class

    def filter_queryset(self, queryset):
        for name, value in self.form.cleaned_data.items():
            if value not in EMPTY_VALUES:
                method = self.filters[name].method  # every filter here has one
                queryset = getattr(self, method)(queryset, name, value)
        return queryset

    @functools.cached_property
    def managers(self) -> dict[int, tuple]:
        """The people Who lists, by id: (pk, full_name, email, role, partner_id,
        customer_id). On a customer's page its own managers first, then its partner's,
        in one query; the page's rows take their actors from here (activity.with_actors)."""
        if self.customer is not None:
            rows = _managers(
                "(customer_id = %s AND role = %s) OR (partner_id = %s AND role = %s)",
                [self.customer.pk, Role.CUSTOMER_MANAGER, self.customer.partner_id, Role.PARTNER_MANAGER],
            )
            rows = [row for row in rows if row[3] == Role.CUSTOMER_MANAGER] + [
                row for row in rows if row[3] != Role.CUSTOMER_MANAGER
            ]
        else:
            rows = _managers("partner_id = %s AND role = %s", [self.partner.pk, Role.PARTNER_MANAGER])
        return {row[0]: row for row in rows}

    def _who_choices(self):
        people = _people(self.managers.values())
        if self.customer is None:
            people.append((CUSTOMER_MANAGERS, "Customer managers"))
        return [*people, (PLATFORM, "The platform (no one signed in)")]

    # --- the filters (each one's ``method``) -----------------------------------------
    def filter_who(self, queryset, name, value):
        if value == PLATFORM:
            return queryset.filter(actor__isnull=True)
        if value == CUSTOMER_MANAGERS:
            return queryset.filter(actor__role=Role.CUSTOMER_MANAGER)
        return queryset.filter(actor_id=int(value))

    def filter_kind(self, queryset, name, value):
        return queryset.filter(action=value)

    def filter_customer(self, queryset, name, value):
        # The customers found first, their ids written into the events' query: the
        # planner then knows how many there are and reads a few customers' events
        # through the index of each one's log, or very many customers' by reading the
        # partner's log newest first. Given a subquery (or an array filled as the query
        # runs) it guesses, and guesses wrong both ways: one customer of 2,000, the
        # partner's whole log read; all 2,000, every one's events read and sorted.
        # Written out, as _managers: the ORM compiled it for longer than the database
        # reads the partner's customers' names. strpos: the text as typed, no wildcards.
        # Read with what the rows show of them, so the events' query need not join them.
        with connection.cursor() as cursor:
            cursor.execute(_CUSTOMERS_NAMED, [self.partner.pk, value])
            found = cursor.fetchall()
        self.customers_named = {row[0]: from_row(Customer, CUSTOMER_COLUMNS, row) for row in found}
        return queryset.filter(customer_id__in=list(self.customers_named))

    @staticmethod
    def _on_local_day(lookup, day):
        """The event's date on its customer's clock, or UTC's for the partner's own
        events; an OR, so the customer is a LEFT JOIN (partner events have none)."""
        return Q(lookup(LocalDate(F("customer__time_zone"), F("at")), day)) | Q(
            Q(customer__isnull=True), lookup(LocalDate(Value("UTC"), F("at")), day)
        )

    def filter_from(self, queryset, name, day):
        if self.customer is not None:  # one clock: an exact range of the index
            return queryset.filter(at__gte=_local_midnight(day, self.customer.tzinfo))
        earliest = _local_midnight(day, datetime.UTC) - MAX_UTC_OFFSET
        return queryset.filter(self._on_local_day(GreaterThanOrEqual, day), at__gte=earliest)

    def filter_to(self, queryset, name, day):
        next_day = day + datetime.timedelta(days=1)
        if self.customer is not None:
            return queryset.filter(at__lt=_local_midnight(next_day, self.customer.tzinfo))
        latest = _local_midnight(next_day, datetime.UTC) + MAX_UTC_OFFSET
        return queryset.filter(self._on_local_day(LessThanOrEqual, day), at__lt=latest)

    # --- for the page --------------------------------------------------------------
    def in_force(self) -> bool:
        return self.is_valid() and any(value not in (None, "") for value in self.form.cleaned_data.values())

    def query(self):
        """The filters of the query string, and nothing else (no page cursor)."""
        query = QueryDict(mutable=True)
        for name in self.form.fields:
            if self.data.get(name):
                query[name] = self.data[name]
        return query


@functools.cache
def _filters_and_form(filterset, *, customer_log):
    """``filterset``'s filters and form class, once per process: a customer's log has
    one customer, so no customer search."""
    filters = {name: f for name, f in filterset.base_filters.items() if not (customer_log and name == "customer")}
    fields = {name: f.field for name, f in filters.items()}
    return filters, type(f"{filterset.__name__}Form", (filterset._meta.form,), fields)
