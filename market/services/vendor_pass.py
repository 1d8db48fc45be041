"""The vendor pass: a signed token in a QR code that a guide scans to identify a vendor.

Signed, not secret: it names a vendor id and cannot be forged without SECRET_KEY. It does not
expire, so a printed pass works for vendors without a smartphone."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from ..extensions import db
from ..models import Vendor
from .errors import NotFound

SALT = "vendor-pass-v1"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def pass_token(vendor: Vendor) -> str:
    return _serializer().dumps({"v": vendor.id, "o": vendor.organization_id})


def vendor_from_pass(token: str) -> Vendor:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        raise NotFound(_l("This vendor pass is not valid."), code="invalid_pass") from None
    vendor = db.session.get(Vendor, data.get("v")) if isinstance(data, dict) else None
    if vendor is None or vendor.organization_id != data.get("o"):
        raise NotFound(_l("This vendor pass is not valid."), code="invalid_pass")
    return vendor
