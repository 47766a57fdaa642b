"""When an order's expiry emails fall due: the 72-hour reminder this long before the
order expires, then the expiry notice at ``expires_at``."""

from datetime import datetime, timedelta

REMINDER_LEAD = timedelta(hours=72)


def reminder_due_at(expires_at: datetime) -> datetime:
    return expires_at - REMINDER_LEAD
