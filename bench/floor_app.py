"""The app as gunicorn serves it in the rush, plus the bench-only pages of the framework's
floor (bench/floor.py): the rush measures that floor through the same server."""

from app import app
from bench.floor import _floor_routes

_floor_routes(app)
