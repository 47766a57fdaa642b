"""Upcoming expiries' row groups are built in Python (notifications/templatetags/
renewal_rows.py): they write what the template they replaced wrote (kept below as
the reference), for every state a reminder or an expiry notice can be in, a draft's
ticks and typed quantities, waiting orders and an expired order."""

import re
from datetime import timedelta
from types import SimpleNamespace

from django.template import Context, Template
from django.utils import timezone

from notifications.renewals import OrderNotices, Renewal
from notifications.templatetags.renewal_rows import renewal_rows

# The template's rows as they were before the row builder (its notice-state include inlined).
REFERENCE = """{% load local_time %}  {% for renewal in renewals %}
  {% with company=renewal.customer span=renewal.orders|length %}
  <tbody data-customer="{{ company.pk }}">
  {% for line in renewal.orders %}
  {% with order=line.order tz=company.time_zone %}
    <tr data-order="{{ order.pk }}">
      {% if forloop.first %}
      <td rowspan="{{ span }}"><input type="checkbox" name="customer" value="{{ company.pk }}" id="renew-{{ company.pk }}" aria-label="Renew {{ company.name }}"{% if renewal.ticked %} checked{% endif %}></td>
      <td rowspan="{{ span }}"><strong>{{ company.name }}</strong></td>
      <td rowspan="{{ span }}" class="num" data-affected>{{ company.learners_affected }}</td>
      <td rowspan="{{ span }}" class="num" data-free-later>{{ company.free_later }}</td>
      <td rowspan="{{ span }}" data-waiting>{% if company.waiting_orders %}{{ company.waiting_orders }} order{{ company.waiting_orders|pluralize }}, {{ company.waiting_licences }} licence{{ company.waiting_licences|pluralize }}{% else %}<span class="muted">None</span>{% endif %}</td>
      <td rowspan="{{ span }}"><input type="number" name="quantity-{{ company.pk }}" value="{{ renewal.quantity_shown|default_if_none:'' }}" min="1" max="{{ max_quantity }}" inputmode="numeric" class="input-narrow" aria-label="Licences for {{ company.name }}"></td>
      {% endif %}
      <td>#{{ order.pk }}</td>
      <td class="num">{{ order.quantity }}</td>
      <td>{% local_time order.expires_at tz %}{% if line.expired %} <span class="badge badge-expired">Expired</span>{% endif %}</td>
      <td>{% for reminder in line.reminders %}<div data-reminder="{{ reminder.lead_hours }}"><span class="small">{{ reminder.label|capfirst }}:</span> {% with notice=reminder due_at=reminder.due_at %}{% if notice and notice.state != "pending" %}{% if notice.state == "sent" %}<span class="badge badge-ok">Sent</span> {% local_time notice.sent_at tz %}<span class="muted small"> to {{ notice.recipient_count }} manager{{ notice.recipient_count|pluralize }}</span>{% elif notice.state == "failed" %}<span class="badge badge-expired" title="{{ notice.error }}">Failed</span>{% elif notice.state == "skipped" %}<span class="badge">Skipped</span> <span class="muted small">{{ notice.error|cut:"Not sent: "|capfirst }}</span>{% else %}<span class="badge badge-requested">{% if notice.state == "retrying" %}Retrying{% else %}Sending{% endif %}</span>{% endif %}{% elif due_at <= now %}<span class="badge badge-requested">Due</span>{% else %}<span class="muted">Due {% local_time due_at tz %}</span>{% endif %}{% endwith %}</div>{% empty %}<span class="muted">None</span>{% endfor %}</td>
      <td>{% with notice=line.expiry due_at=order.expires_at %}{% if notice and notice.state != "pending" %}{% if notice.state == "sent" %}<span class="badge badge-ok">Sent</span> {% local_time notice.sent_at tz %}<span class="muted small"> to {{ notice.recipient_count }} manager{{ notice.recipient_count|pluralize }}</span>{% elif notice.state == "failed" %}<span class="badge badge-expired" title="{{ notice.error }}">Failed</span>{% elif notice.state == "skipped" %}<span class="badge">Skipped</span> <span class="muted small">{{ notice.error|cut:"Not sent: "|capfirst }}</span>{% else %}<span class="badge badge-requested">{% if notice.state == "retrying" %}Retrying{% else %}Sending{% endif %}</span>{% endif %}{% elif due_at <= now %}<span class="badge badge-requested">Due</span>{% else %}<span class="muted">Due {% local_time due_at tz %}</span>{% endif %}{% endwith %}</td>
    </tr>
  {% endwith %}
  {% endfor %}
  </tbody>
  {% endwith %}
  {% endfor %}
"""

NOW = timezone.now().replace(microsecond=0)


def notice(state, *, sent_at=None, recipient_count=0, error=""):
    return SimpleNamespace(state=state, sent_at=sent_at, recipient_count=recipient_count, error=error)


NOTICES = [
    None,
    notice("pending"),
    notice("sent", sent_at=NOW - timedelta(hours=5), recipient_count=1),
    notice("sent", sent_at=NOW, recipient_count=3),
    notice("failed", error='Provider said "no" <b>'),
    notice("skipped", error="Not sent: nobody to send it to (no active manager)."),
    notice("retrying", error="503"),
    notice("claimed"),
]


def reminder(state_notice, lead_hours, due_at):
    label = f"{lead_hours}-hour reminder"
    base = state_notice or notice("pending")
    return SimpleNamespace(**vars(base), lead_hours=lead_hours, due_at=due_at, label=label)


def company(pk, name, *, waiting_orders=0, waiting_licences=0, affected=3, tz="Europe/London"):
    return SimpleNamespace(
        pk=pk,
        name=name,
        time_zone=tz,
        learners_affected=affected,
        free_later=7,
        waiting_orders=waiting_orders,
        waiting_licences=waiting_licences,
    )


def order(pk, expires_at):
    return SimpleNamespace(pk=pk, quantity=10 + pk, expires_at=expires_at)


def renewals():
    groups = []
    for n, state in enumerate(NOTICES):
        expires = NOW + timedelta(days=n - 2)  # some expired, some to come
        lines = [
            OrderNotices(
                order(100 + n, expires),
                expires <= NOW,
                [reminder(state, 72, expires - timedelta(hours=72)), reminder(None, 24, expires - timedelta(hours=24))],
                state,
            )
        ]
        if n % 3 == 0:
            lines.append(OrderNotices(order(200 + n, expires + timedelta(days=1)), False, [], None))
        groups.append(
            Renewal(
                customer=company(
                    n + 1,
                    f'Company <{n}> & "Co"',
                    waiting_orders=n % 3,
                    waiting_licences=(n % 3) * 5 - (1 if n % 3 == 2 else 0),
                    affected=n,
                    tz=("Europe/London", "America/New_York", "Asia/Tokyo")[n % 3],
                ),
                orders=lines,
                ticked=n % 2 == 1,
                entered=None if n % 4 else "12",
            )
        )
    return groups


def squeezed(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def test_the_row_builder_writes_what_the_template_wrote():
    rows = renewals()
    expected = Template(REFERENCE).render(Context({"renewals": rows, "now": NOW, "max_quantity": 100_000}))
    built = renewal_rows(rows, NOW, 100_000)
    assert squeezed(built) == squeezed(expected)
    assert built.count("<tbody") == len(NOTICES) and "&lt;b&gt;" in built  # every group, escaped


def test_counts_are_grouped_as_everywhere_else():
    """One difference from the template: counts read "1,200 licences" (common.text.plural),
    as on every other page."""
    big = Renewal(customer=company(1, "Big", waiting_orders=2, waiting_licences=1200), orders=[])
    big.orders.append(OrderNotices(order(9, NOW + timedelta(days=3)), False, [], None))
    assert "2 orders, 1,200 licences" in renewal_rows([big], NOW, 100_000)
