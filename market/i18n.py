"""Language choice: ?lang= (remembered in a cookie), then Accept-Language, else 简体中文."""

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import flask_babel
import flask_wtf.i18n
from babel import Locale, support
from babel.dates import get_timezone_location
from flask import current_app, has_request_context, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import LazyString, get_locale
from markupsafe import Markup, escape


def _lazy_string_as_text(self) -> Markup:
    return escape(str(self))


# Flask-Babel's lazy string calls itself safe HTML (`__html__` returns the text as it is), so
# Jinja printed `_l("History of %(name)s", name=user_text)` unescaped: a vendor named
# `<b>x</b>` was live markup on a report. Our messages are plain text, the values formatted
# into them are often typed by people: a lazy string is escaped like any other str (in Jinja,
# WTForms labels, flashed messages). `str()` of it is unchanged.
LazyString.__html__ = _lazy_string_as_text


@cache
def _wtforms_catalog(name: str) -> support.Translations:
    return support.Translations.load(flask_wtf.i18n.messages_path(), [name], domain="wtforms")


def _wtforms_translations() -> support.Translations | None:
    return _wtforms_catalog(str(get_locale())) if has_request_context() else None


# Flask-WTF loads WTForms' catalog from disk once per request that formats one of its
# messages: on every check-in, for the empty hidden position fields (about 1 ms). Once per
# process and language is enough.
flask_wtf.i18n._get_translations = _wtforms_translations


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON turns anything with `__html__` into that HTML: a lazy string goes out as
    its plain text instead, as it did before it was escaped in pages."""

    @staticmethod
    def default(o):
        if isinstance(o, LazyString):
            return str(o)
        return DefaultJSONProvider.default(o)


LANG_COOKIE = "lang"
# What people type in ?lang= mapped to our catalogs.
ALIASES = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "zh_hans": "zh_CN", "en": "en"}


def _supported(value: str | None) -> str | None:
    if not value:
        return None
    return ALIASES.get(value.strip().lower())


@cache
def _locale(name: str) -> Locale:
    """Parsed once per process: Babel's parse scans its list of locales on every call."""
    return Locale.parse(name)


def select_locale() -> Locale:
    return _locale(_select_name())


def _select_name() -> str:
    if not has_request_context():  # CLI and scheduler speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = _supported(request.args.get("lang")) or _supported(request.cookies.get(LANG_COOKIE))
    if chosen:
        return chosen
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best and best.startswith("en"):
        return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang() -> str:
    """zh-CN or en for <html lang>; Babel calls our zh_CN 'zh_Hans_CN', so ask it the language."""
    return "en" if get_locale().language == "en" else "zh-CN"


def remember_choice(response):
    """Keep an explicit ?lang= for the next visits."""
    chosen = _supported(request.args.get("lang"))
    if chosen and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure,
            httponly=True,
        )
    return response


def zone_name(zone: str | ZoneInfo) -> str:
    """A timezone as people read it: 中国（上海）时间 / China (Shanghai) Time, not Asia/Shanghai."""
    try:
        tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    except (ZoneInfoNotFoundError, ValueError):  # a bad stored name: shown as it is
        return str(zone)
    return get_timezone_location(tz, get_locale())


# English "short" is US-style ("12/6/26, 12:23 AM"), which reads as June in most places; one
# unambiguous day-month-year with a 24-hour clock, as the Chinese short form already is.
SHORT_EN = "d MMM y HH:mm"


def datetimeformat(value, format: str = "medium") -> str:
    """Flask-Babel's filter, with the short English form above."""
    if format == "short" and get_locale().language == "en":
        format = SHORT_EN
    return flask_babel.format_datetime(value, format)
