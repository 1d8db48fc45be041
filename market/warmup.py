"""Work a gunicorn worker does once when it starts, instead of in its first requests.

At opening time hundreds of phones reach freshly started workers at once: each thread would
compile the same templates (Jinja does not share a compile in progress) and load the catalogs,
and the first check-ins would wait a second behind them."""

from flask import Flask
from flask_babel import force_locale, get_translations


def warm(app: Flask) -> int:
    """Compile every page template and load each language's catalog; the number compiled."""
    env = app.jinja_env
    names = env.list_templates(filter_func=lambda name: name.endswith(".html"))
    for name in names:
        env.get_template(name)
    with app.test_request_context():
        for language in app.config["LANGUAGES"]:
            with force_locale(language):
                get_translations()
    return len(names)
