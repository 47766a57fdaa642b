"""``{% nav_url 'app:name' %}``: the path of a page without arguments, reversed once
per process (per URLconf and script prefix), not once per request: base.html's
header links seven to fourteen of them on every page."""

import functools

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@functools.lru_cache(maxsize=256)
def _path(name, urlconf, prefix):
    return reverse(name, urlconf=urlconf)


@register.simple_tag
def nav_url(name):
    # The URLconf and the prefix in the key: a test or a deployment that changes
    # either gets its own paths (reverse reads the prefix itself).
    return _path(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
