"""``{% activity_rows page partner_view %}``: the rows of the Activity table, written in
one pass, as common.widgets.QuickSelect writes its options: the page shows 25 rows,
and the template language with format_html spends on one row's eight values what
this spends on the whole row (and a tag per row, what this spends on the table).
``{% activity_filters filter.form %}``: the filters' fields, likewise. Every value is
escaped as the template would."""

from html import escape  # the standard library's, as Django's escape is: no lazy-string wrapper

from django import template
from django.utils.html import conditional_escape
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


@register.simple_tag
def activity_filters(form):
    """Each filter's label, input (its widget's HTML) and errors, in a div."""
    html = []
    for field in form:
        errors = field.errors
        label = f'<label for="{conditional_escape(field.id_for_label)}">{conditional_escape(field.label)}</label>'
        error = " ".join(conditional_escape(message) for message in errors)
        error = f'<p class="error small" role="alert">{error}</p>' if errors else ""
        invalid = " field-invalid" if errors else ""
        html.append(f'<div class="field{invalid}">\n      {label}\n      {field}\n      {error}\n    </div>')
    return mark_safe("\n    ".join(html))  # noqa: S308 (every value escaped, the widgets' own HTML)
