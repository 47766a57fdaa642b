# One image for web, worker, beat and the migrate step of docker-compose.yml.
# (Local development needs no Docker: `python3 scripts/dev.py start`.)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app

# The runtime dependencies come from pyproject.toml alone, so that a code change
# reuses this layer. The optional groups (embedded servers, tests) are not needed here.
COPY pyproject.toml .
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# WhiteNoise serves the collected, hashed and compressed files; the key is for this step only.
# Every process starts through scripts/production.sh, as tests/production/ starts them.
RUN DEBUG=0 SECRET_KEY=collectstatic-only-not-a-secret scripts/production.sh collectstatic

RUN useradd --create-home --uid 10001 app
USER app

EXPOSE 8000
CMD ["scripts/production.sh", "web"]
