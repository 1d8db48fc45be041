"""Accounts and access: logins, passwords, roles, and who may see or do what."""

# The modules the views may call (imported where used, to keep import order free of cycles).
__all__ = ["access", "accounts", "login_limits", "reset_codes", "signins"]
