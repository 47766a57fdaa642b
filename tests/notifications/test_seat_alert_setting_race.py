"""Two clicks of the 90 % alert switch at the same instant (threads, each with its
own connection): the setting changes once and one change is audited."""

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from notifications import seat_alerts
from tests.builders import race


@pytest.mark.django_db(transaction=True)
def test_a_double_click_audits_one_change(tenant_transactional_db, acme, dana):
    changed = []
    race(2, timezone.now(), lambda: changed.append(seat_alerts.set_alert_at_90_percent(acme, True, acting_user=dana)))

    assert sorted(changed) == [False, True]
    assert seat_alerts.alert_at_90_percent(acme)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SEAT_ALERTS_CHANGED).count() == 1
