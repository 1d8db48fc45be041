"""The whole domain, one module per aggregate. Import from here."""

from .audit import AuditEvent
from .complaints import (
    COMPLAINT_KINDS,
    MARKET_COMPLAINT_KINDS,
    STALL_COMPLAINT_KINDS,
    Complaint,
)
from .fees import CheckInMove, FeeRule, IdempotencyRecord, MonthlyPass, ReliefRule
from .guide import (
    INCIDENT_KINDS,
    CashHandover,
    HandoverItem,
    HandoverState,
    Incident,
    IncidentState,
)
from .ledger import (
    ACCOUNT_KINDS,
    AppendOnlyError,
    Expense,
    ExpenseState,
    LedgerAccount,
    LedgerEntry,
    LedgerLine,
    LockedDay,
    MonthClose,
    SessionReconciliation,
)
from .org import Organization, Role, RoleGrant
from .places import Market, RetiredStallToken, Stall, StallStatus, Zone, new_stall_token
from .sessions import (
    SESSION_KINDS,
    MarketClosure,
    MarketSession,
    SchedulerLease,
    SessionState,
    SessionTemplate,
)
from .trading import (
    Charge,
    CheckIn,
    CheckInState,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from .types import UTCDateTime, utcnow
from .users import User, mask_phone
from .vendors import Relief, Vendor, VendorStatus

__all__ = [
    "ACCOUNT_KINDS",
    "AppendOnlyError",
    "Expense",
    "ExpenseState",
    "LockedDay",
    "MonthClose",
    "SessionReconciliation",
    "COMPLAINT_KINDS",
    "MARKET_COMPLAINT_KINDS",
    "STALL_COMPLAINT_KINDS",
    "Complaint",
    "INCIDENT_KINDS",
    "CashHandover",
    "HandoverItem",
    "HandoverState",
    "Incident",
    "IncidentState",
    "SESSION_KINDS",
    "AuditEvent",
    "Charge",
    "CheckInMove",
    "FeeRule",
    "IdempotencyRecord",
    "MonthlyPass",
    "ReliefRule",
    "CheckIn",
    "CheckInState",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerLine",
    "Market",
    "MarketClosure",
    "MarketSession",
    "Organization",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "Relief",
    "RetiredStallToken",
    "Role",
    "RoleGrant",
    "SchedulerLease",
    "SessionState",
    "SessionTemplate",
    "Stall",
    "StallStatus",
    "UTCDateTime",
    "User",
    "Vendor",
    "VendorStatus",
    "Zone",
    "mask_phone",
    "new_stall_token",
    "utcnow",
]
