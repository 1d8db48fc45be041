"""Questions (质询) a street office's supervisor puts to a community about its books, and the
thread of answers. A question never edits what it is about."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, one_of, utcnow


class QuestionState:
    OPEN = "open"  # waits for the community's answer
    ANSWERED = "answered"  # waits for the supervisor: accept or ask again
    ACCEPTED = "accepted"
    ALL = (OPEN, ANSWERED, ACCEPTED)


# What a question is about: a record of the community (by id) or a dashboard flag (by key).
QUESTION_SUBJECTS = ("month_close", "expense", "handover", "session", "flag")
MESSAGE_KINDS = ("ask", "answer", "follow_up", "accept")


class Question(db.Model):
    __tablename__ = "questions"
    __table_args__ = (
        one_of("state", QuestionState.ALL),
        one_of("subject_kind", QUESTION_SUBJECTS),
        Index("ix_questions_organization_id_state", "organization_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int | None]
    # The flag's key, or a short label of the record as it read when asked (a month, a day).
    subject_key: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16), default=QuestionState.OPEN)
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organization: Mapped["Organization"] = relationship()  # noqa: F821
    area: Mapped["Area"] = relationship()  # noqa: F821
    asked_by: Mapped["User"] = relationship()  # noqa: F821
    messages: Mapped[list["QuestionMessage"]] = relationship(
        back_populates="question", order_by="QuestionMessage.id"
    )


class QuestionMessage(db.Model):
    """One turn of the thread: the question, an answer, a follow-up, the acceptance."""

    __tablename__ = "question_messages"
    __table_args__ = (one_of("kind", MESSAGE_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    question: Mapped[Question] = relationship(back_populates="messages")
    author: Mapped["User"] = relationship()  # noqa: F821
