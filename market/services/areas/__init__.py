"""The street office (街道) above the communities: areas, their supervisors (membership), and
the supervisor's dashboard of every community side by side (dashboard)."""

__all__ = ["dashboard", "membership", "questions"]
