from django import template

from common import local_time as formats

register = template.Library()


@register.simple_tag
def local_time(moment, tz):
    """``{% local_time moment tz %}``: the moment on the clock of time zone ``tz``."""
    return formats.time_element(moment, tz)
