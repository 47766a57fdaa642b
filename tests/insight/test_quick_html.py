"""The Activity page's and Requested Orders filters' one-pass HTML (common.widgets' quick inputs and select, the
activity_rows tag) writes what Django's templates write, escaped as they escape."""

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.template import Context, Template

from common.widgets import QuickDateInput, QuickNumberInput, QuickSelect, QuickTextInput
from insight.activity import Entry, Link

TRICKY = [None, "", "a\"<b>&'", date(2026, 1, 2), "2026-01-02", "  x ", "é東", 0]
ATTRS = [None, {"id": "id_x"}, {"id": "id_x", "aria-invalid": "true", "required": True, "disabled": False}]


@pytest.mark.parametrize(
    ("quick", "django"),
    [
        (QuickDateInput(attrs={"type": "date"}), forms.DateInput(attrs={"type": "date"})),
        (
            QuickTextInput(attrs={"type": "search", "placeholder": 'A "name" <b>', "maxlength": 100}),
            forms.TextInput(attrs={"type": "search", "placeholder": 'A "name" <b>', "maxlength": 100}),
        ),
        (  # Requested Orders' number of licences
            QuickNumberInput(attrs={"min": 1, "step": 1, "inputmode": "numeric"}),
            forms.NumberInput(attrs={"min": 1, "step": 1, "inputmode": "numeric"}),
        ),
    ],
)
def test_quick_inputs_write_what_django_writes(quick, django):
    for value in TRICKY:
        for attrs in ATTRS:
            assert quick.render("x", value, attrs) == django.render("x", value, attrs), (value, attrs)


CHOICES = [("", "Anyone"), ("1", 'A "name" <b>'), ("2", "é東 & co"), (3, "Three"), ("a\"<b>&'", "odd key")]


def test_quick_select_writes_what_django_writes_each_time():
    """Options are escaped once per process: the second page (and another selection,
    other choices) still gets its own, right HTML."""
    between_tags = lambda html: re.sub(r">\s+<", "><", html)  # noqa: E731 (Django's template puts newlines there)
    for choices in (CHOICES, CHOICES[::-1], CHOICES[:2]):
        quick, django = QuickSelect(choices=choices), forms.Select(choices=choices)
        for value in [*TRICKY, "1", "3", 3, "a\"<b>&'"]:
            for attrs in ATTRS[:2]:  # the options are the point here, not the attributes' order
                expected = between_tags(django.render("x", value, attrs))
                assert quick.render("x", value, attrs) == expected, (choices, value, attrs)


class _Event:
    def __init__(self, at):
        self.at = at


ROW = """{% for entry in page %}
  <tr>
    <td>{{ entry.when }}</td>
    <td>{{ entry.sentence }}</td>
    {% if partner_view %}<td>{{ entry.customer|default:"—" }}</td>{% endif %}
    <td>{% if entry.link %}<a href="{{ entry.link.url }}">{{ entry.link.label }}</a>{% endif %}</td>
  </tr>{% endfor %}"""


def test_activity_rows_are_escaped_as_the_template_escapes():
    from datetime import UTC, datetime

    moment = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    entries = [
        Entry(_Event(moment), '<script>alert("x")</script> & co', "who", "A&B <Ltd>", ZoneInfo("Asia/Tokyo")),
        Entry(_Event(moment), "plain", "who", "", ZoneInfo("UTC"), Link('L"<>', '/x/?q=a&b="c"')),
    ]
    for partner_view in (True, False):
        context = Context({"page": entries, "partner_view": partner_view})
        quick = Template("{% load activity_rows %}\n  {% activity_rows page partner_view %}")
        expected = Template(ROW).render(context)
        squeeze = lambda html: " ".join(html.split())  # noqa: E731 (a blank line where the template left out a cell)
        assert squeeze(quick.render(context)) == squeeze(expected)
    assert "&lt;script&gt;" in quick.render(context)


def test_times_read_as_strftime_writes_them():
    """common.local_time writes the clock without strftime: the same text."""
    from datetime import UTC, datetime, timedelta

    from common.local_time import MONTHS, clock, time_element

    start = datetime(2026, 3, 28, 23, 5, tzinfo=UTC)  # across a summer time change
    for hours in range(0, 80, 7):
        moment = start + timedelta(hours=hours, minutes=hours)
        for zone in ("Europe/London", "Asia/Kolkata", "America/St_Johns", "UTC"):
            local = moment.astimezone(ZoneInfo(zone))
            text = f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local.strftime('%H:%M')}"
            assert clock(moment, zone) == text
            assert time_element(moment, ZoneInfo(zone)) == f'<time datetime="{local.isoformat()}">{text}</time>'


FILTER_FIELDS = """{% for field in filter.form %}
    <div class="field{% if field.errors %} field-invalid{% endif %}">
      <label for="{{ field.id_for_label }}">{{ field.label }}</label>
      {{ field }}
      {% if field.errors %}<p class="error small" role="alert">{{ field.errors|join:" " }}</p>{% endif %}
    </div>
    {% endfor %}"""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": "order.requested", "customer": 'A&B "<Ltd>"', "date_from": "2026-01-02"},
        {"kind": "<nonsense>", "who": "x", "date_from": "2026-13-40", "date_to": "1900-01-01"},
        {"date_from": "2026-02-01", "date_to": "2026-01-01"},
    ],
)
def test_activity_filters_write_what_the_template_writes(data, partner_a, acme):
    from django.http import QueryDict

    from insight import activity
    from insight.filters import ActivityFilter

    query = QueryDict(mutable=True)
    query.update(data)
    for filterset in (
        ActivityFilter(query, activity.partner_events(partner_a), partner=partner_a),
        ActivityFilter(query, activity.customer_events(acme), customer=acme),
    ):
        filterset.is_valid()
        context = Context({"filter": filterset})
        quick = Template("{% load activity_rows %}{% activity_filters filter.form %}").render(context)
        squeeze = lambda html: " ".join(html.split())  # noqa: E731 (a blank line where the template left out errors)
        assert squeeze(quick) == squeeze(Template(FILTER_FIELDS).render(context))
        if data.get("kind") == "<nonsense>":
            assert "field-invalid" in quick and "&lt;nonsense&gt;" not in quick
