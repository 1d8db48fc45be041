"""Small helpers every area uses: the clock, money in fen, errors, audit events, idempotent
replays, report tables and their exports, uploaded images, Redis with its fallback, the
tick's registered jobs and the markets' data versions."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = [
    "audit",
    "clock",
    "errors",
    "exports",
    "idempotency",
    "money",
    "redis_store",
    "tables",
    "ticks",
    "uploads",
    "versions",
]
