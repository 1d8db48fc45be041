"""People who log in: vendors, guides, cadres and admins, all by mobile number."""

from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .types import UTCDateTime, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("length(phone) = 11", name="phone_length"),
        CheckConstraint("token_version >= 0", name="token_version_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(11), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(256))
    is_active_flag: Mapped[bool] = mapped_column(
        "is_active", default=True, server_default=text("true")
    )
    # Bumped on password change: invalidates API tokens and other logged-in browsers.
    token_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    grants: Mapped[list["RoleGrant"]] = relationship(  # noqa: F821
        back_populates="user", cascade="all, delete-orphan", order_by="RoleGrant.id"
    )
    area_grants: Mapped[list["AreaGrant"]] = relationship(  # noqa: F821
        back_populates="user", cascade="all, delete-orphan", order_by="AreaGrant.id"
    )

    def set_password(self, password: str) -> None:
        # scrypt with a random salt; tests may lower its cost through the config.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # flask-login
        return self.is_active_flag

    def get_id(self) -> str:
        # The version makes a password change log out every other browser.
        return f"{self.id}:{self.token_version}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


def mask_phone(phone: str) -> str:
    """138****0003: what everyone but the vendor's cadre sees."""
    if len(phone) != 11:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[7:]}"
