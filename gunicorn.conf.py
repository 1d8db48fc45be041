"""gunicorn settings for `make run` and the Docker image (override with GUNICORN_* env)."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
accesslog = None  # the app logs each request itself, as JSON with a request id
errorlog = "-"
# gunicorn 27 opens a control socket under ~/.gunicorn by default; not wanted here.
control_socket_disable = True


# The one scheduler runs in the master, started once before the workers are forked; workers
# never start one (docs/scheduler.md). SCHEDULER=off leaves it out (a dedicated
# `flask --app app market scheduler` process, or another host, runs it instead).
def when_ready(server):
    from market.scheduler import start_in_master

    start_in_master()


# Compile the templates and open a connection per thread before the worker takes requests,
# then freeze what that left for the garbage collector to ignore (market/warmup.py says why).
def post_worker_init(worker):
    from market.warmup import freeze, warm

    warm(worker.wsgi, connections=worker.cfg.threads)
    freeze()


def on_exit(server):
    from market.scheduler import stop_in_master

    stop_in_master()
