"""One row per fault: what the workload was answered and which invariants held."""

from __future__ import annotations

from dataclasses import dataclass

from fault_invariants import Findings
from fault_workload import Tally

COLUMNS = (
    "fault",
    "recovered in",
    "requests",
    "2xx",
    "409",
    "503 retried",
    "refused",
    "lost answers",
    "other errors",
    "notifications",
    "on sockets",
    "missing",
    "doubled",
    "writes lost",
    "oversold",
    "revoked stay revoked",
    "verdict",
)


@dataclass
class Row:
    fault: str
    recovery_seconds: float
    tally: Tally
    findings: Findings
    revoked_stay_revoked: bool

    @property
    def passed(self) -> bool:
        return (
            not self.tally.unexpected and not self.findings.problems() and self.revoked_stay_revoked
        )

    def cells(self) -> tuple[str, ...]:
        t, f = self.tally, self.findings
        return (
            self.fault,
            f"{self.recovery_seconds:.1f} s",
            str(t.requests),
            str(t.ok),
            str(t.conflicts),
            str(t.retried_503),
            str(t.connection_errors),
            str(t.lost_answers),
            str(len(t.unexpected)),
            str(f.expected),
            str(f.delivered),
            str(len(f.missing_notifications) + len(f.socket_gaps)),
            str(len(f.duplicate_notifications) + len(f.socket_duplicates)),
            str(len(f.lost_writes)),
            str(len(f.oversold)),
            "yes" if self.revoked_stay_revoked else "NO",
            "pass" if self.passed else "FAIL",
        )

    def details(self) -> list[str]:
        return [*self.tally.unexpected, *self.findings.problems()] + (
            [] if self.revoked_stay_revoked else ["a logged-out token works again"]
        )


def render(rows: list[Row]) -> str:
    """A Markdown table, for the terminal and for docs/reliability.md alike."""
    table = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in table
    ]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)
