"""Moments as the pages show them: on the company's clock, "5 Mar 2027, 14:30".

Stored in UTC everywhere; shown in the time zone of the company they concern. One
place for the wording, used by Python-built rows, messages and the ``local_time``
template tag alike."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.html import format_html
from django.utils.safestring import mark_safe

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NO_MOMENT = format_html('<span class="muted">{}</span>', "—")


def _zone(tz) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz))


def clock(moment: datetime, tz) -> str:
    """``moment`` on ``tz``'s clock, as text: "5 Mar 2027, 14:30"."""
    return _as_text(moment.astimezone(_zone(tz)))


def day(moment: datetime, tz) -> str:
    """``moment``'s day on ``tz``'s clock, as text: "5 Mar 2027"."""
    return _day_text(moment.astimezone(_zone(tz)))


def _day_text(local: datetime) -> str:
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}"


def _as_text(local: datetime) -> str:
    # Without strftime, which costs more than the rest (a time on each of 25 rows).
    return f"{_day_text(local)}, {local.hour:02d}:{local.minute:02d}"


def time_element(moment: datetime | None, tz) -> str:
    """``moment`` on ``tz``'s clock as a ``<time>`` element (its ``datetime`` carries
    the offset); a muted dash when there is no moment."""
    if moment is None:
        return NO_MOMENT
    local = moment.astimezone(_zone(tz))
    # Digits, a month's name and punctuation, nothing to escape: no format_html (pages
    # with a time on each of 25 rows).
    return mark_safe(f'<time datetime="{local.isoformat()}">{_as_text(local)}</time>')  # noqa: S308
