"""The Dockerfile and docker-compose.yml start every process through the same
scripts/production.sh commands that tests/production/test_production_stack.py runs."""

import json
import os
import re

from tests.production.conftest import PRODUCTION_SCRIPT, ROOT

COMPOSE_COMMANDS = {"migrate": "migrate", "web": "web", "worker": "worker", "beat": "beat"}


def compose_commands() -> dict[str, list[str]]:
    """Each service's ``command:`` (written as a JSON-style list) in docker-compose.yml."""
    commands, service = {}, None
    for line in (ROOT / "docker-compose.yml").read_text().splitlines():
        if match := re.fullmatch(r"  ([a-z][\w-]*):\s*", line):
            service = match.group(1)
        elif match := re.fullmatch(r"\s+command:\s*(\[.*\])\s*", line):
            commands[service] = json.loads(match.group(1))
    return commands


def test_compose_runs_each_service_through_the_production_script():
    commands = compose_commands()
    for service, subcommand in COMPOSE_COMMANDS.items():
        assert commands[service] == [PRODUCTION_SCRIPT, subcommand], service


def test_the_image_collects_static_files_and_serves_through_the_production_script():
    dockerfile = (ROOT / "Dockerfile").read_text()
    [cmd] = re.findall(r"^CMD (\[.*\])$", dockerfile, flags=re.MULTILINE)
    assert json.loads(cmd) == [PRODUCTION_SCRIPT, "web"]
    assert re.search(rf"^RUN .*\b{re.escape(PRODUCTION_SCRIPT)} collectstatic$", dockerfile, flags=re.MULTILINE)


def test_the_production_script_is_executable():
    assert os.access(ROOT / PRODUCTION_SCRIPT, os.X_OK)
