"""Each audit event as a sentence in the product's words, one entry per
``AuditEvent.Action`` kind:

    "Alice Archer (Northwind Security, manage mode) renewed 24 learners from order #8"

``SENTENCES`` maps a kind to a format string (``{who}``, ``{customer}`` and the
event's details keys; a key the event lacks shows as "—") or to a function of the
event's ``Line`` for sentences that depend on the details. Adding a kind is one line:

    Action.SEAT_ALERT_CHANGED: "{who} changed the seat alert setting",

``tests/insight/test_sentences.py`` fails for a kind without an entry. The details
each kind carries are written in the ``events.py`` module of its app."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from accounts.models import AuditEvent, Role
from common import local_time
from common.text import plural
from notifications.forms import format_leads

Action = AuditEvent.Action
THE_PLATFORM = "The platform"
SOMEONE = "Someone"
# Kinds written when nobody is signed in: whoever typed is unknown.
ANONYMOUS_KINDS = {Action.SIGN_IN_FAILED, Action.SIGN_IN_LOCKED_OUT, Action.PASSWORD_RESET_THROTTLED}


@dataclass
class Line:
    """What a sentence is made of: the event, its details, who did it (with their
    company and manage mode) and the customer it concerns, on the viewer's clock."""

    event: AuditEvent
    who: str
    customer: str
    tz: object

    @property
    def details(self) -> dict:
        return self.event.details if isinstance(self.event.details, dict) else {}

    def get(self, key, default=None):
        return self.details.get(key, default)

    def moment(self, key) -> str:
        """A details timestamp (ISO text) on the viewer's clock; "—" if unreadable."""
        try:
            return local_time.clock(datetime.fromisoformat(self.get(key)), self.tz)
        except (TypeError, ValueError):
            return "—"


def who(event) -> str:
    """ "Alice Archer (Northwind Security, manage mode)"; "The platform" without an actor."""
    actor = event.actor
    if actor is None:
        return SOMEONE if event.action in ANONYMOUS_KINDS else THE_PLATFORM
    name = actor.get_full_name()
    if actor.role == Role.OPERATOR:
        company = "operator"
    elif actor.partner_id is not None:
        company = actor.partner.name
    elif actor.customer_id is not None:
        company = actor.customer.name
    else:
        company = ""
    extras = [part for part in (company, "manage mode" if event.in_manage_mode else "") if part]
    return f"{name} ({', '.join(extras)})" if extras else name


class _Fields(dict):
    def __missing__(self, key):
        return "—"


def _number(value) -> int:
    return value if isinstance(value, int) else 0


def _orders(line) -> str:
    """ " from order #8" / " from orders #8 and #9" / "" from the details' order counts."""
    orders = line.get("orders") or {}
    ids = sorted(orders, key=lambda key: int(key) if str(key).isdigit() else 0) if isinstance(orders, dict) else []
    if not ids:
        return ""
    named = [f"#{order_id}" for order_id in ids]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return f" from order{'s' if len(named) > 1 else ''} {listed}"


def _leads(hours) -> str:
    if not hours:
        return "no reminders"
    return format_leads(hours) + " before expiry"


# --- The sentences, one per kind -----------------------------------------------------


def _allocated(line):
    allocated, missed = _number(line.get("allocated")), _number(line.get("not_allocated"))
    text = f"{line.who} allocated {plural(allocated, 'licence')}{_orders(line)}"
    return text + (f"; {plural(missed, 'learner')} got none (no free licence)" if missed else "")


def _renewed(line, early=False):
    renewed, missed = _number(line.get("renewed")), _number(line.get("not_renewed"))
    how = {
        "csv": f" by Import Allocation of {line.get('file') or 'a CSV file'}",
        "select_all": " with Select All",
    }.get(line.get("selection"), "")
    text = f"{line.who} renewed {plural(renewed, 'learner')}{' early' if early else ''}{_orders(line)}{how}"
    return text + (f"; {plural(missed, 'learner')} not renewed" if missed else "")


def _carried_over(line):
    moved, missed = _number(line.get("moved")), _number(line.get("not_moved"))
    text = f"At the expiry of order #{line.get('order', '—')}, {plural(moved, 'learner')} moved to later orders"
    return text + (f"; {plural(missed, 'learner')} not moved (no free licence)" if missed else "")


def _on_off(value) -> str:
    return "on" if value is True else "off"


def _seat_alerts(line):
    change = line.get("alert_at_90_percent")
    after = change.get("after") if isinstance(change, dict) else None
    return f"{line.who} turned the 90 % seat alert {_on_off(after)} for {line.customer or '—'}"


def _digest(line):
    via = " from the digest's unsubscribe link" if line.get("via") == "email_link" else ""
    return f"{line.who} turned their weekly digest {_on_off(line.get('subscribed'))}{via}"


def _added(line):
    if line.get("source") == "csv":
        added, given, skipped = (_number(line.get(key)) for key in ("added", "allocated", "skipped"))
        text = f"{line.who} imported {plural(added, 'learner')} from {line.get('file') or 'a CSV file'}"
        text += f" ({given:,} given a licence"
        return text + (f", {skipped:,} skipped)" if skipped else ")")
    licence = "given a licence" if _number(line.get("allocated")) else "no free licence"
    return f"{line.who} added learner {line.get('email', '—')} ({licence})"


def _deactivated(line):
    freed = line.get("freed_seat_of_order")
    tail = f", freeing a licence of order #{freed}" if freed else ""
    return f"{line.who} deactivated learner {line.get('email', '—')}{tail}"


def _locked_out(line):
    target = f"from {line.get('address', '—')}" if line.get("scope") == "address" else f"as {line.get('email', '—')}"
    return f"Signing in {target} was paused until {line.moment('until')} after repeated wrong passwords"


def _reset_throttled(line):
    target = f"from {line.get('address', '—')}" if line.get("scope") == "address" else f"for {line.get('email', '—')}"
    return f"Password reset requests {target} were paused until {line.moment('until')}"


def _device_removed(line):
    if line.get("by_operator"):
        return f"{line.who} reset two-factor sign-in of {line.get('user', '—')}"
    return f"{line.who} removed their two-factor authenticator"


def _requirement(line):
    if line.get("required"):
        return f"{line.who} required two-factor sign-in for every partner manager"
    return f"{line.who} stopped requiring two-factor sign-in"


def _schedule(line):
    after = line.get("after_hours")
    if line.get("scope") == "customer":
        if after is None:
            return f"{line.who} set {line.customer}'s reminders back to the partner's default schedule"
        return f"{line.who} set {line.customer}'s reminder schedule to {_leads(after)}"
    return f"{line.who} changed the default reminder schedule to {_leads(after)}"


def _token_created(line):
    scope = "read and write" if line.get("scope") == "read_write" else "read only"
    return f"{line.who} created API token “{line.get('name', '—')}” ({line.get('token', '—')}…, {scope})"


def _endpoint_changed(line):
    changed = line.get("changed") or []
    what = f" ({', '.join(str(name) for name in changed)})" if changed else ""
    return f"{line.who} changed webhook endpoint {line.get('url', '—')}{what}"


def _endpoint_disabled(line):
    reason = line.get("reason")
    return f"{line.who} disabled webhook endpoint {line.get('url', '—')}" + (f": {reason}" if reason else "")


def _order_assigned(line):
    return (
        f"{line.who} assigned order #{line.get('order_id', '—')}: "
        f"{plural(_number(line.get('quantity')), 'licence')} valid until {line.moment('expires_at')}"
    )


SENTENCES: dict[str, str | Callable[[Line], str]] = {
    Action.MANAGE_MODE_ENTERED: "{who} entered manage mode for {customer}",
    Action.MANAGE_MODE_LEFT: "{who} left manage mode for {customer}",
    Action.ORDER_REQUESTED: lambda line: (
        f"{line.who} requested {plural(_number(line.get('quantity')), 'licence')} (order #{line.get('order_id', '—')})"
    ),
    Action.ORDER_ASSIGNED: _order_assigned,
    Action.ORDER_CANCELLED: lambda line: (
        f"{line.who} cancelled order #{line.get('order_id', '—')} for "
        f"{plural(_number(line.get('quantity')), 'licence')}"
    ),
    Action.LICENCES_ALLOCATED: _allocated,
    Action.LICENCES_RENEWED: _renewed,
    Action.LEARNERS_ADDED: _added,
    Action.LEARNER_DEACTIVATED: _deactivated,
    Action.SIGN_IN_FAILED: "{who} typed a wrong password for {email} from {address}",
    Action.SIGN_IN_LOCKED_OUT: _locked_out,
    Action.PASSWORD_RESET_THROTTLED: _reset_throttled,
    Action.TWO_FACTOR_DEVICE_ADDED: "{who} set up a two-factor authenticator ({device})",
    Action.TWO_FACTOR_DEVICE_REMOVED: _device_removed,
    Action.TWO_FACTOR_CODE_FAILED: "{who} typed a wrong two-factor code from {address}",
    Action.TWO_FACTOR_LOCKED_OUT: lambda line: (
        f"Two-factor codes of {line.who} were paused until {line.moment('until')} after repeated wrong codes"
    ),
    Action.TWO_FACTOR_REQUIREMENT_CHANGED: _requirement,
    Action.REMINDER_SCHEDULE_CHANGED: _schedule,
    Action.CUSTOMER_CREATED: "{who} added the customer {name} through the API",
    Action.API_TOKEN_CREATED: _token_created,
    Action.API_TOKEN_REVOKED: "{who} revoked API token “{name}” ({token}…)",
    Action.WEBHOOK_ENDPOINT_ADDED: "{who} added webhook endpoint {url}",
    Action.WEBHOOK_ENDPOINT_CHANGED: _endpoint_changed,
    Action.WEBHOOK_ENDPOINT_REMOVED: "{who} removed webhook endpoint {url}",
    Action.WEBHOOK_ENDPOINT_DISABLED: _endpoint_disabled,
    Action.WEBHOOK_ENDPOINT_ENABLED: "{who} enabled webhook endpoint {url} again",
    Action.WEBHOOK_REDELIVERED: "{who} redelivered the {event} webhook",
    Action.LICENCES_RENEWED_EARLY: lambda line: _renewed(line, early=True),
    Action.CARRY_OVER_CHANGED: lambda line: (
        f"{line.who} turned carry-over at expiry {_on_off(line.get('on'))} for {line.customer or '—'}"
    ),
    Action.LICENCES_CARRIED_OVER: _carried_over,
    Action.NOTICE_COPIES_CHANGED: lambda line: (
        f"{line.who} turned copies of expiry notices to the partner's managers {_on_off(line.get('copy_managers'))}"
    ),
    Action.DIGEST_SUBSCRIPTION_CHANGED: _digest,
    Action.SEAT_ALERTS_CHANGED: _seat_alerts,
    Action.PARTNER_TIME_ZONE_CHANGED: "{who} set the partner's time zone to {after} (was {before})",
}


def sentence(line: Line) -> str:
    """The event's sentence; a kind without one (a newer kind than this code) is
    named by its label rather than failing the page."""
    entry = SENTENCES.get(line.event.action)
    if entry is None:
        return f"{line.who}: {line.event.get_action_display()}"
    if callable(entry):
        return entry(line)
    fields = _Fields({key: value for key, value in line.details.items() if isinstance(key, str)})
    fields.update(who=line.who, customer=line.customer or "—")
    return entry.format_map(fields)
