"""QR codes for stall posters: the URL they carry, as inline SVG and as print-resolution PNG."""

import io
import ipaddress
import re
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4  # modules of white border the standard asks for; scanners need it


def stall_url(base_url: str, token: str) -> str:
    """The absolute URL a stall's QR code encodes: <base>/s/<token>."""
    return f"{base_url.rstrip('/')}/s/{token}"


def reachable_only_here(base_url: str) -> bool:
    """True when printed codes would point at this machine or a private network: loopback,
    localhost, link-local, a private range (10.x, 192.168.x …) or a .local name. A poster
    carrying such an address scans to a page no vendor's phone can open."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host in ("", "localhost") or host.endswith((".localhost", ".local")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: trust it
    return address.is_loopback or address.is_private or address.is_link_local


def _code(data: str, **kw) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE, **kw)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_svg(data: str, label: str = "") -> str:
    """An <svg> element to inline in a page; it scales to its container, quiet zone kept."""
    image = _code(data, image_factory=qrcode.image.svg.SvgPathImage).make_image()
    svg = image.to_string(encoding="unicode")
    svg = re.sub(r'^<svg width="[^"]*" height="[^"]*"', "<svg", svg)
    svg = svg.replace(' id="qr-path"', "")  # many codes on one page: ids must stay unique
    attrs = ' class="qr" role="img" shape-rendering="crispEdges"'
    if label:
        attrs += f' aria-label="{_escape(label)}"'
    return svg.replace("<svg", "<svg" + attrs, 1)


def qr_png(data: str, box_size: int = 24) -> bytes:
    """A PNG for printing: 24 px a module is about 8 cm wide at 300 dpi for a stall URL."""
    image = _code(data, box_size=box_size).make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
