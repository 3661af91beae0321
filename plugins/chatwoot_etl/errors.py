"""Every exception the package raises on purpose, and which of them a retry cannot fix.

The retry policy (``orchestration.retries``) and the CLI's exit codes read the classification
here, so an error class is permanent or transient in one place only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chatwoot_etl.contract import ContractDiff


class ChatwootEtlError(RuntimeError):
    """Base of the package's own errors."""


class ConfigurationError(ChatwootEtlError):
    """Bad configuration (unknown tenant, bad time zone, bad parameters or settings)."""


class ContractDrift(ChatwootEtlError):
    """The source view no longer offers what the load needs; nothing was read or written."""

    def __init__(self, relation: str, diff: ContractDiff) -> None:
        self.relation = relation
        self.diff = diff
        super().__init__(f"source view {relation} drifted from the contract:\n{diff.describe()}")


class SourceReadFailed(ChatwootEtlError):
    """The source raised a row error (a value it cannot compute) while producing a read; the engine
    catches it to narrow the failure down to conversations (sync.poison)."""

    def __init__(self, error: str) -> None:
        self.error = error
        super().__init__(error)


class SourceRowError(ChatwootEtlError):
    """The source cannot compute some rows of the read, and they could not be narrowed down to
    conversations (the error is not in a per-conversation expression); nothing of the read loads."""


class _Describable(Protocol):
    def describe(self) -> str: ...


class LockRefused(ChatwootEtlError):
    """Another sync of the same tenant holds the tenant's advisory lock."""

    def __init__(self, tenant_id: int, holder: _Describable | None) -> None:
        self.tenant_id = tenant_id
        self.holder = holder
        who = holder.describe() if holder else "a session that has just released it"
        super().__init__(f"tenant {tenant_id}: another sync holds the tenant lock: {who}")


class VariableStoreError(ChatwootEtlError):
    """The Airflow Variable store (the watermark mirror) cannot be read or written."""


class AdminError(ChatwootEtlError):
    """Bad input or a refused administrative change; the message names the problem."""


class MigrationError(ChatwootEtlError):
    """A migration of the analytics database failed (rolled back) or was edited after it was applied."""


class LabelledFileError(ChatwootEtlError):
    """A labelled-conversations file (leads evaluate) that cannot be read: names the conversation
    and the field."""


# A retry cannot fix these: Airflow fails them at once instead of retrying.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (ConfigurationError, ContractDrift, LockRefused, SourceRowError)


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, PERMANENT_ERRORS)


def retried_despite_permanent(exc: BaseException, run_type: str) -> bool:
    """A backfill run refused by the lock is retried: the run it overlaps finishes soon."""
    return isinstance(exc, LockRefused) and run_type == "backfill"
