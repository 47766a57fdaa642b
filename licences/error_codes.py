"""Stable codes of the errors licence-order services raise (the API returns them)."""

from enum import StrEnum

from common.errors import ServiceError


class OrderErrorCode(StrEnum):
    NOT_REQUESTED = "order_not_requested"


class OrderStateError(ServiceError):
    """The order is not in a state that allows this (already assigned, cancelled...)."""

    default_code = OrderErrorCode.NOT_REQUESTED
