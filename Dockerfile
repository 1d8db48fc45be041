# The tidal market app: gunicorn on a slim Python, as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    MARKET_INSTANCE_PATH=/data

WORKDIR /app
RUN useradd --create-home --uid 10001 market && mkdir -p /data && chown market /data

# Dependencies first (cached while only the code changes). The app itself runs from /app,
# where templates, static files and migrations sit beside it.
COPY pyproject.toml README.md ./
COPY market ./market
RUN pip install . && pip uninstall -y tidal-market

COPY app.py gunicorn.conf.py babel.cfg ./
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN pybabel compile -d market/translations

USER market
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['PORT'], timeout=4)"

# Migrations on every start (idempotent), then gunicorn serves app:app.
CMD ["sh", "-c", "flask --app app db upgrade && exec gunicorn -c gunicorn.conf.py app:app"]
