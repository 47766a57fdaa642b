"""Audit events of learners and seats, one function per event, each with the
details its rows carry."""

from accounts import audit
from accounts.models import AuditEvent


def licences_allocated(customer, *, actor, in_manage_mode: bool, requested: int, outcome) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.LICENCES_ALLOCATED,
        actor=actor,
        customer=customer,
        in_manage_mode=in_manage_mode,
        details={
            "requested": requested,
            "allocated": outcome.allocated,
            "not_allocated": outcome.not_allocated,
            "orders": outcome.order_counts,
        },
    )


def expired_licences_renewed(
    customer, *, actor, in_manage_mode: bool, select_all: bool, search: str, selected: int, outcome
) -> AuditEvent:
    """Renewed from the Expired Licences tab: ticked One by One, or Select All."""
    return audit.record(
        AuditEvent.Action.LICENCES_RENEWED,
        actor=actor,
        customer=customer,
        in_manage_mode=in_manage_mode,
        details={
            "selection": "select_all" if select_all else "one_by_one",
            "search": search if select_all else "",
            "selected": selected,
            "renewed": outcome.allocated,
            "not_renewed": outcome.not_allocated,
            "orders": outcome.order_counts,
        },
    )


def licences_renewed_early(
    customer,
    *,
    actor,
    in_manage_mode: bool,
    selection: str,
    search: str,
    days: int,
    selected: int,
    outcome,
    reasons=None,
    file="",
) -> AuditEvent:
    """Renewed early from the Expiring Soon tab: One by One, Select All or CSV."""
    details = {
        "selection": selection,
        "search": search,
        "window_days": days,
        "selected": selected,
        "renewed": outcome.allocated,
        "not_renewed": outcome.not_allocated,
        "orders": outcome.order_counts,
        "freed": outcome.freed,
    }
    if reasons is not None:
        details |= {"file": file, "reasons": reasons, "not_renewed": sum(reasons.values())}
    return audit.record(
        AuditEvent.Action.LICENCES_RENEWED_EARLY,
        actor=actor,
        customer=customer,
        in_manage_mode=in_manage_mode,
        details=details,
    )


def carry_over_changed(customer, *, actor, in_manage_mode: bool, on: bool) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.CARRY_OVER_CHANGED,
        actor=actor,
        customer=customer,
        in_manage_mode=in_manage_mode,
        details={"on": on},
    )


def licences_carried_over(customer, *, order_id: int, moved: int, not_moved: int, outcome) -> AuditEvent:
    """The platform's own act, at an order's expiry (no actor)."""
    return audit.record(
        AuditEvent.Action.LICENCES_CARRIED_OVER,
        actor=None,
        customer=customer,
        details={"order": order_id, "moved": moved, "not_moved": not_moved, "orders": outcome.order_counts},
    )


def allocation_imported(customer, *, actor, in_manage_mode: bool, upload, counts: dict, outcome) -> AuditEvent:
    """Renewed by Import Allocation; ``counts`` has each row's outcome."""
    not_renewed = {code: n for code, n in counts.items() if code != "renew"}
    return audit.record(
        AuditEvent.Action.LICENCES_RENEWED,
        actor=actor,
        customer=customer,
        in_manage_mode=in_manage_mode,
        details={
            "selection": "csv",
            "file": upload.filename,
            "rows": upload.row_count,
            "renewed": outcome.allocated,
            "not_renewed": sum(not_renewed.values()),
            "reasons": not_renewed,
            "orders": outcome.order_counts,
        },
    )


def learner_added(customer, learner, *, actor, in_manage_mode: bool, allocated: int) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.LEARNERS_ADDED,
        actor=actor,
        customer=customer,
        in_manage_mode=in_manage_mode,
        details={
            "source": "form",
            "added": 1,
            "allocated": allocated,
            "learner_id": learner.pk,
            "email": learner.email,
        },
    )


def learners_imported(customer, *, actor, in_manage_mode: bool, upload, result) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.LEARNERS_ADDED,
        actor=actor,
        customer=customer,
        in_manage_mode=in_manage_mode,
        details={
            "source": "csv",
            "file": upload.filename,
            "rows": upload.row_count,
            "added": result.added,
            "allocated": result.allocated,
            "skipped": result.skipped,
        },
    )


def learner_deactivated(customer, learner, *, actor, in_manage_mode: bool, freed_seat_of_order) -> AuditEvent:
    return audit.record(
        AuditEvent.Action.LEARNER_DEACTIVATED,
        actor=actor,
        customer=customer,
        in_manage_mode=in_manage_mode,
        details={"learner_id": learner.pk, "email": learner.email, "freed_seat_of_order": freed_seat_of_order},
    )
