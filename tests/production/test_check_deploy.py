"""``manage.py check --deploy`` is clean with the settings production runs with (the
same environment the production test starts gunicorn with), and it does catch a
production setting left off."""

import pytest

from tests.production.conftest import manage, production_environment

pytestmark = pytest.mark.production

CHECK = ["check", "--deploy", "--fail-level", "WARNING"]


def test_check_deploy_is_clean_in_production():
    result = manage(CHECK, production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("variables", "warnings"),
    [
        # Plain http: no SSL redirect, no HSTS, cookies sent in clear.
        ({"HTTPS": "0"}, ["security.W004", "security.W008", "security.W012", "security.W016"]),
        ({"DEBUG": "1"}, ["security.W018"]),
    ],
)
def test_check_deploy_fails_when_a_production_setting_is_off(variables, warnings):
    result = manage(CHECK, production_environment(**variables))
    assert result.returncode != 0
    for warning in warnings:
        assert warning in result.stderr + result.stdout
