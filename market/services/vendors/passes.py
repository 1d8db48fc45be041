"""The vendor pass: a signed token in a QR code that a guide scans to identify a vendor.

Signed, not secret: it names a vendor id and cannot be forged without SECRET_KEY. It does not
expire, so a printed pass works for vendors without a smartphone. A rejected vendor has none:
no pass is shown or printed for them, and one printed earlier no longer identifies them."""

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from ...extensions import db
from ...models import Vendor, VendorStatus
from ..common.errors import Conflict, NotFound

SALT = "vendor-pass-v1"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def has_pass(vendor: Vendor) -> bool:
    """Pending, approved and suspended vendors have a pass; a rejected one does not."""
    return vendor.status != VendorStatus.REJECTED


def pass_token(vendor: Vendor) -> str:
    if not has_pass(vendor):
        raise Conflict(_l("A rejected vendor has no vendor pass."), code="no_pass")
    return _serializer().dumps({"v": vendor.id, "o": vendor.organization_id})


def pass_url(base_url: str, vendor: Vendor) -> str:
    """What the pass's QR code holds: the guide's identify page, on the public address."""
    return base_url.rstrip("/") + url_for("guide.identify", token=pass_token(vendor))


def vendor_from_pass(token: str) -> Vendor:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        raise NotFound(_l("This vendor pass is not valid."), code="invalid_pass") from None
    vendor = db.session.get(Vendor, data.get("v")) if isinstance(data, dict) else None
    if vendor is None or vendor.organization_id != data.get("o"):
        raise NotFound(_l("This vendor pass is not valid."), code="invalid_pass")
    if not has_pass(vendor):
        raise NotFound(
            _l("This vendor's registration was rejected: the pass is no longer valid."),
            code="no_pass",
        )
    return vendor
