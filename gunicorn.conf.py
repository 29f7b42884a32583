"""Production server settings: `gunicorn 'app:create_app()'` reads this file."""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Sync workers: each request is short CPU work plus a local database call.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
worker_class = "sync"
# One app per worker, created after fork (no database connection shared across processes).
preload_app = False
accesslog = None  # URLs carry a confirmation token on one route: keep them out of logs
errorlog = "-"
timeout = 30
