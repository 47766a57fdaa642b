"""``{% activity_rows page partner_view %}``: the rows of the Activity table, written in
one pass, as common.widgets.QuickSelect writes its options: the page shows 25 rows,
and the template language with format_html spends on one row's eight values what
this spends on the whole row (and a tag per row, what this spends on the table).
Every value is escaped as the template would."""

from html import escape  # the standard library's, as Django's escape is: no lazy-string wrapper

from django import template
from django.utils.safestring import mark_safe

register = template.Library()
NO_CUSTOMER = "—"


def _row(entry, partner_view) -> str:
    """<tr>: when (already HTML), what happened, the customer (the partner's page), the link."""
    link = entry.link
    link = f'<a href="{escape(link.url)}">{escape(link.label)}</a>' if link else ""
    customer = f"\n    <td>{escape(entry.customer or NO_CUSTOMER)}</td>" if partner_view else ""
    return f"<tr>\n    <td>{entry.when}</td>\n    <td>{escape(entry.sentence)}</td>{customer}\n    <td>{link}</td>\n  </tr>"


@register.simple_tag
def activity_rows(entries, partner_view):
    return mark_safe("\n  ".join(_row(entry, partner_view) for entry in entries))  # noqa: S308 (every value escaped)
