"""The address printed into QR codes and notices: PUBLIC_BASE_URL, else the request's host.

One place for every page that prints a URL, so each can also warn when that address only works
on this machine or its private network (see qr.reachable_only_here)."""

from flask import current_app, request

from .services.zoning import qr


def public_base_url() -> str:
    return current_app.config.get("PUBLIC_BASE_URL") or request.host_url


def local_only_base_url() -> str | None:
    """The base URL when printed codes would not work from a phone elsewhere, else None."""
    base = public_base_url()
    return base if qr.reachable_only_here(base) else None
