"""A full disk while an upload is stored: the same translated 503 as a database that cannot
write (JSON 503 on the API), the request's transaction rolled back, no partial file left; and
/healthz saying the disk is low before it is full."""

import base64
import errno
import io
from collections import namedtuple
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from market.extensions import db
from market.models import Complaint, Incident, Vendor
from tests.views.test_vendors import register

DISK_FULL = [errno.ENOSPC, errno.EDQUOT]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "#c2410c").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def full_disk(monkeypatch):
    """Image writes to a path write a few bytes, then fail like a full disk."""
    state = {"errno": errno.ENOSPC, "tried": []}
    real_save = Image.Image.save

    def save(self, fp, *args, **kwargs):
        if not isinstance(fp, str | Path):
            return real_save(self, fp, *args, **kwargs)  # in memory: not the disk
        state["tried"].append(Path(fp))
        Path(fp).write_bytes(b"\xff\xd8\xff half an image")
        raise OSError(state["errno"], "No space left on device", str(fp))

    monkeypatch.setattr(Image.Image, "save", save)
    return state


def _files(app) -> list[Path]:
    root = Path(app.instance_path) / "uploads"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("code", DISK_FULL, ids=["ENOSPC", "EDQUOT"])
def test_a_full_disk_during_registration_is_a_503_and_nothing_is_kept(
    demo_app, client, full_disk, code
):
    full_disk["errno"] = code
    vendors = _count(demo_app, Vendor)
    r = register(
        client,
        "/vendors/register?market=jinhui",
        health_cert_photo=(io.BytesIO(_png()), "cert.png"),
    )
    assert full_disk["tried"], "the photo was never written"
    assert r.status_code == 503
    assert r.mimetype == "text/html" and "暂时无法使用" in r.text  # the translated page
    assert r.headers["Retry-After"]
    assert _count(demo_app, Vendor) == vendors  # the registration was rolled back
    assert _files(demo_app) == []  # and the half-written photo removed
    assert client.get("/vendors/home").status_code == 302  # not logged in as a ghost


def test_a_full_disk_during_an_api_upload_is_a_json_503(demo_app, client, full_disk):
    before = (_count(demo_app, Complaint), _count(demo_app, Incident))
    r = client.post(
        "/api/v1/complaints",
        json={
            "market_slug": "jinhui",
            "kind": "noise",
            "text": "喇叭太吵",
            "photo_base64": base64.b64encode(_png()).decode(),
        },
    )
    assert full_disk["tried"], r.json
    assert r.status_code == 503, r.json
    assert r.json["error"]["code"] == "unavailable"
    assert (_count(demo_app, Complaint), _count(demo_app, Incident)) == before
    assert _files(demo_app) == []


def test_other_os_errors_stay_500s(demo_app, client, monkeypatch):
    """Only a full disk is an outage; a permission error is a bug and says so."""

    photo = _png()

    def save(self, fp, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(fp))

    monkeypatch.setattr(Image.Image, "save", save)
    r = register(
        client, "/vendors/register?market=jinhui", health_cert_photo=(io.BytesIO(photo), "cert.png")
    )
    assert r.status_code == 500


# --- /healthz ---------------------------------------------------------------------------------

Usage = namedtuple("Usage", "total used free")
MB = 1024 * 1024


@pytest.mark.parametrize(
    ("free_mb", "floor_mb", "disk"),
    [(5000, None, "ok"), (150, None, "low"), (150, 100, "ok"), (50, 100, "low")],
)
def test_healthz_reports_low_disk_and_stays_200(demo_app, monkeypatch, free_mb, floor_mb, disk):
    asked = []

    def disk_usage(path):
        asked.append(str(path))
        return Usage(100_000 * MB, (100_000 - free_mb) * MB, free_mb * MB)

    monkeypatch.setattr("shutil.disk_usage", disk_usage)
    if floor_mb is not None:
        demo_app.config["DISK_FREE_FLOOR_MB"] = floor_mb
    r = demo_app.test_client().get("/healthz")
    assert r.status_code == 200  # the market can still trade
    assert r.json["disk"] == disk and r.json["db"] == "ok"
    assert asked == [demo_app.instance_path]  # where uploads and SQLite live
