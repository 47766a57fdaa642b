"""Form widgets the pages share."""

from html import escape  # the standard library's: thousands of calls, no lazy-string wrapper

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe


class QuickSelect(forms.Select):
    """A <select> rendered in one pass: Django renders one template per option, which
    costs milliseconds on a page with hundreds of choices (the Activity filters)."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = "" if value in (None, "") else str(value)
        options = "".join(
            f'<option value="{escape(str(key))}"{" selected" if str(key) == selected else ""}>{escape(str(label))}</option>'
            for key, label in self.choices
        )
        attrs = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, attrs, mark_safe(options))  # noqa: S308
