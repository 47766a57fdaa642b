"""Form widgets the pages share."""

import functools
from html import escape  # the standard library's: thousands of calls, no lazy-string wrapper

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe


@functools.lru_cache(maxsize=4096)
def _option(key: str, label: str) -> tuple[str, str]:
    """An <option>'s HTML before and after its ``selected``, escaped once per process
    (the same kinds of event, time zones and people on every page)."""
    return f'<option value="{escape(key)}"', f">{escape(label)}</option>"


class QuickSelect(forms.Select):
    """A <select> rendered in one pass: Django renders one template per option, which
    costs milliseconds on a page with hundreds of choices (the Activity filters)."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = "" if value in (None, "") else str(value)
        html = []
        for key, label in self.choices:
            key = str(key)
            start, end = _option(key, str(label))
            html.append(f"{start} selected{end}" if key == selected else start + end)
        options = "".join(html)
        attrs = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, attrs, mark_safe(options))  # noqa: S308


class QuickInputMixin:
    """An <input> rendered in one pass, as Django's input.html and attrs.html write it
    (attributes in their order, True ones bare, False ones left out), without the two
    templates Django renders for each (the Activity filters' search and dates)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        html = [f'<input type="{escape(str(widget["type"]))}" name="{escape(str(name))}"']
        if widget["value"] is not None:
            html.append(f' value="{escape(str(widget["value"]))}"')
        for key, attr in widget["attrs"].items():
            if attr is True:
                html.append(f" {escape(str(key))}")
            elif attr is not False:
                html.append(f' {escape(str(key))}="{escape(str(attr))}"')
        return mark_safe("".join(html) + ">")  # noqa: S308 (every value escaped)


class QuickTextInput(QuickInputMixin, forms.TextInput):
    pass


class QuickDateInput(QuickInputMixin, forms.DateInput):
    pass


class QuickNumberInput(QuickInputMixin, forms.NumberInput):
    pass
