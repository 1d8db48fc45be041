"""Entry point for gunicorn (`app:app`) and `flask --app app`."""

from market import create_app

app = create_app()
