"""The community income ledger: accounts, the hash chain, entries, the postings events make,
expenses, and closing days and months."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = [
    "accounts",
    "chain",
    "checkpoints",
    "entries",
    "expenses",
    "operations",
    "periods",
    "postings",
]
