"""The evening at a stall: checking in (one vendor per stall, one charge), paying, and the stall
card a scan shows."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = ["checkins", "payments", "stall_card", "stall_read"]
