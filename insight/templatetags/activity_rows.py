"""``{% activity_row entry partner_view %}``: one row of the Activity table, written in
one pass, as common.widgets.QuickSelect writes its options: the page shows 25 rows,
and the template language with format_html spends on one row's eight values what
this spends on the whole row. Every value is escaped as the template would."""

from html import escape  # the standard library's, as Django's escape is: no lazy-string wrapper

from django import template
from django.utils.safestring import mark_safe

register = template.Library()
NO_CUSTOMER = "—"


@register.simple_tag
def activity_row(entry, partner_view):
    """<tr>: when (already HTML), what happened, the customer (the partner's page), the link."""
    link = entry.link
    link = f'<a href="{escape(link.url)}">{escape(link.label)}</a>' if link else ""
    customer = f"\n    <td>{escape(entry.customer or NO_CUSTOMER)}</td>" if partner_view else ""
    return mark_safe(  # noqa: S308 (every value escaped above)
        f"<tr>\n    <td>{entry.when}</td>\n    <td>{escape(entry.sentence)}</td>{customer}\n    <td>{link}</td>\n  </tr>"
    )
