"""One row per fault and round: what the workload was answered and which invariants held."""

from __future__ import annotations

from dataclasses import dataclass

from fault_invariants import Findings
from fault_workload import Tally

COLUMNS = (
    "round",
    "fault",
    "recovered in",
    "in flight at kill",
    "requests",
    "2xx",
    "409",
    "503 retried",
    "refused",
    "cut off",
    "lost answers",
    "other errors",
    "notifications",
    "on sockets",
    "missing",
    "doubled",
    "writes lost",
    "oversold",
    "outbox left",
    "DLQ",
    "unrouted",
    "revoked stay revoked",
    "verdict",
)


@dataclass
class Row:
    round: int
    fault: str
    recovery_seconds: float
    tally: Tally
    findings: Findings
    revoked_stay_revoked: bool
    in_flight_at_kill: int | None = None
    """What the killed process's ``http_requests_in_progress`` said just before
    the SIGKILL, for the faults that wait for requests in flight."""

    @property
    def missed_in_flight(self) -> bool:
        """A kill meant for requests in flight that cut none off."""
        return self.in_flight_at_kill is not None and self.tally.cut_off == 0

    @property
    def passed(self) -> bool:
        return not self.details()

    def cells(self) -> tuple[str, ...]:
        t, f = self.tally, self.findings
        return (
            str(self.round),
            self.fault,
            f"{self.recovery_seconds:.1f} s",
            "-" if self.in_flight_at_kill is None else str(self.in_flight_at_kill),
            str(t.requests),
            str(t.ok),
            str(t.conflicts),
            str(t.retried_503),
            str(t.connection_errors),
            str(t.cut_off),
            str(t.lost_answers),
            str(len(t.unexpected)),
            str(f.expected),
            str(f.delivered),
            str(len(f.missing_notifications) + len(f.socket_gaps)),
            str(len(f.duplicate_notifications) + len(f.socket_duplicates)),
            str(len(f.lost_writes)),
            str(len(f.oversold)),
            str(len(f.outbox_left)),
            str(len(f.dead_letters)),
            str(len(f.unrouted)),
            "yes" if self.revoked_stay_revoked else "NO",
            "pass" if self.passed else "FAIL",
        )

    def details(self) -> list[str]:
        return [
            *self.tally.unexpected,
            *self.findings.problems(),
            *([] if self.revoked_stay_revoked else ["a logged-out token works again"]),
            *(["the kill cut off no request in flight"] if self.missed_in_flight else []),
        ]


def render(rows: list[Row]) -> str:
    """A Markdown table, for the terminal and for docs/reliability.md alike."""
    table = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in table
    ]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)
