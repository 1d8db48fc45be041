"""The rules of the domain. Plain functions over the database session; never read `request`.

Services add and change objects but do not commit: the caller (a view, the CLI, the
scheduler) commits once, so one request or job is one transaction.
"""
