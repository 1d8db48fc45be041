"""Wrong passwords, counted where every worker sees them (without Redis)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class LoginFailure(db.Model):
    """One wrong password, once under its phone ("p:…") and once under its address ("a:…").

    Rows older than the counting window are deleted as new ones arrive
    (market/services/auth/login_limits.py); a successful login deletes its phone's rows."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LoginSession(db.Model):
    """One logged-in browser. The session cookie carries a random key whose SHA-256 is kept
    here; logging out deletes the row, so a copied cookie stops working at once (the cookie
    alone would be good for PERMANENT_SESSION_LIFETIME). Rows of every browser of a user go
    on "log out everywhere", a password change and a reset (market/services/auth/signins.py)."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ResetCode(db.Model):
    """A one-time password reset code a guide, cadre or admin gave a user in person.

    Only its hash is kept; it is good until `expires_at`, once (`used_at`), and a newer code
    for the same user cancels it (`cancelled_at`) (market/services/auth/reset_codes.py)."""

    __tablename__ = "reset_codes"
    __table_args__ = (
        Index("ix_reset_codes_issued_by_id_created_at", "issued_by_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    code_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
