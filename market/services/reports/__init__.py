"""Reports for cadres: takings, occupancy, vendors' histories and the audit trail, as tables."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = ["audit_labels", "audit_log", "histories", "occupancy", "summaries", "todo"]
