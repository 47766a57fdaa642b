"""``{% renewal_rows renewals now max_quantity %}``: Upcoming expiries' row groups,
one ``<tbody>`` per customer, built here in one pass: the template's loops and the
notice-state include cost most of the page (five times the queries, at 25 customers
with two orders each)."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from common.local_time import time_element
from common.text import plural

register = template.Library()

_NONE = mark_safe('<span class="muted">None</span>')  # noqa: S308 (constant markup)
_DUE = mark_safe('<span class="badge badge-requested">Due</span>')  # noqa: S308
_EXPIRED = mark_safe(' <span class="badge badge-expired">Expired</span>')  # noqa: S308
_CHECKED = mark_safe(" checked")  # noqa: S308


def notice_state(notice, due_at, now, tz):
    """A reminder's or expiry notice's state in the ledger, or when it is due."""
    if notice is not None and notice.state != "pending":
        if notice.state == "sent":
            return format_html(
                '<span class="badge badge-ok">Sent</span> {}<span class="muted small"> to {}</span>',
                time_element(notice.sent_at, tz),
                plural(notice.recipient_count, "manager"),
            )
        if notice.state == "failed":
            return format_html('<span class="badge badge-expired" title="{}">Failed</span>', notice.error)
        if notice.state == "skipped":
            return format_html(
                '<span class="badge">Skipped</span> <span class="muted small">{}</span>',
                capfirst(notice.error.replace("Not sent: ", "")),
            )
        return format_html(
            '<span class="badge badge-requested">{}</span>', "Retrying" if notice.state == "retrying" else "Sending"
        )
    if due_at <= now:
        return _DUE
    return format_html('<span class="muted">Due {}</span>', time_element(due_at, tz))


def _company_cells(renewal, span: int, max_quantity: int):
    company = renewal.customer
    waiting = _NONE
    if company.waiting_orders:
        waiting = format_html(
            "{}, {}", plural(company.waiting_orders, "order"), plural(company.waiting_licences, "licence")
        )
    quantity = renewal.quantity_shown
    return format_html(
        '<td rowspan="{span}"><input type="checkbox" name="customer" value="{pk}" id="renew-{pk}"'
        ' aria-label="Renew {name}"{checked}></td>'
        '<td rowspan="{span}"><strong>{name}</strong></td>'
        '<td rowspan="{span}" class="num" data-affected>{affected}</td>'
        '<td rowspan="{span}" class="num" data-free-later>{free}</td>'
        '<td rowspan="{span}" data-waiting>{waiting}</td>'
        '<td rowspan="{span}"><input type="number" name="quantity-{pk}" value="{quantity}" min="1" max="{max}"'
        ' inputmode="numeric" class="input-narrow" aria-label="Licences for {name}"></td>',
        span=span,
        pk=company.pk,
        name=company.name,
        checked=_CHECKED if renewal.ticked else "",
        affected=company.learners_affected,
        free=company.free_later,
        waiting=waiting,
        quantity="" if quantity is None else quantity,
        max=max_quantity,
    )


def _order_row(line, first_cells, now, tz):
    order = line.order
    reminders = format_html_join(
        "",
        '<div data-reminder="{}"><span class="small">{}:</span> {}</div>',
        (
            (reminder.lead_hours, capfirst(reminder.label), notice_state(reminder, reminder.due_at, now, tz))
            for reminder in line.reminders
        ),
    )
    return format_html(
        '<tr data-order="{}">{}<td>#{}</td><td class="num">{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>',
        order.pk,
        first_cells,
        order.pk,
        order.quantity,
        time_element(order.expires_at, tz),
        _EXPIRED if line.expired else "",
        reminders or _NONE,
        notice_state(line.expiry, order.expires_at, now, tz),
    )


@register.simple_tag
def renewal_rows(renewals, now, max_quantity):
    groups = []
    for renewal in renewals:
        tz = renewal.customer.time_zone
        first = _company_cells(renewal, len(renewal.orders), max_quantity)
        rows = [_order_row(line, first if n == 0 else "", now, tz) for n, line in enumerate(renewal.orders)]
        groups.append(format_html('<tbody data-customer="{}">{}</tbody>', renewal.customer.pk, _joined(rows)))
    return _joined(groups)


def _joined(parts):
    """Parts built by format_html, one after another (format_html_join keeps them safe)."""
    return format_html_join("", "{}", ((part,) for part in parts))
