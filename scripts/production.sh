#!/bin/sh
# The production processes, one command each. The Dockerfile, docker-compose.yml and
# tests/production/ (which runs every one of them with DEBUG=0) all start them from here:
#
#   scripts/production.sh collectstatic   hashed, compressed static files into STATIC_ROOT
#   scripts/production.sh migrate         the public schema, then every customer's schema
#   scripts/production.sh web             gunicorn on BIND (0.0.0.0:8000), WEB_CONCURRENCY workers (2)
#   scripts/production.sh worker          a Celery worker
#   scripts/production.sh beat            Celery beat (run one only), its state in CELERY_BEAT_SCHEDULE_FILE
#
# Everything else comes from the environment variables in README.md (Configuration).
set -eu
cd "$(dirname "$0")/.."

case "${1:-}" in
  collectstatic) exec python manage.py collectstatic --noinput ;;
  migrate) exec python manage.py migrate_schemas ;;
  web) exec gunicorn config.wsgi --bind "${BIND:-0.0.0.0:8000}" --workers "${WEB_CONCURRENCY:-2}" --access-logfile - ;;
  worker) exec celery -A config worker --loglevel info ;;
  beat) exec celery -A config beat --loglevel info --schedule "${CELERY_BEAT_SCHEDULE_FILE:-/tmp/celerybeat-schedule}" ;;
  *)
    echo "usage: $0 collectstatic|migrate|web|worker|beat" >&2
    exit 2
    ;;
esac
