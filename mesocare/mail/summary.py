"""The end of a ``send`` or ``remind`` run: the lines for stderr (per row, without a name or
an address) and the exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mesocare.mail.jobs import Plan, Report


UNCONFIRMED_WHAT = (
    "it may have been delivered, so it is not sent again. If the mail server's log shows it never"
    " arrived, run the same command again with --resend-unconfirmed."
)


def _rows_named(positions: list[str]) -> str:
    shown = positions[:20]
    more = len(positions) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def counted(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def summary(plan: Plan, report: Report, what: str, dry_run: bool = False) -> str:
    """The lines for stderr: what was sent, what was not and why, per row; no names, no
    addresses."""
    lines: list[str] = []
    if dry_run:
        lines.append(
            f"{counted(len(report.written), what)} written as "
            f"{counted(len(report.written), '.eml file')}, not sent"
            + (f" ({report.updated} of them updates)." if report.updated else ".")
        )
    else:
        lines.append(
            f"{counted(report.sent, what)} sent"
            + (f" ({report.updated} of them updates)." if report.updated else ".")
        )
    if plan.already_sent:
        lines.append(f"{plan.already_sent} already sent before, unchanged: not sent again.")
    if plan.without_address:
        shown = plan.without_address[:20]
        more = (
            f" and {len(plan.without_address) - len(shown)} more"
            if len(plan.without_address) > len(shown)
            else ""
        )
        lines.append(
            f"{len(plan.without_address)} without an email address: "
            f"print theirs ({', '.join(shown)}{more})."
        )
    if plan.past:
        lines.append(
            f"{plan.past} appointment{'s' if plan.past != 1 else ''} before today: not sent."
        )
    if plan.nothing_to_remind:
        lines.append(f"{plan.nothing_to_remind} with nothing starting that day.")
    if report.stopped:
        lines.append(f"Stopped: {report.stopped}")
    if report.unconfirmed:
        lines.append(
            f"{counted(len(report.unconfirmed), 'message')} went to the mail server without an"
            f" answer ({_rows_named(report.unconfirmed)}): {UNCONFIRMED_WHAT}"
        )
    if plan.unconfirmed:
        held = plan.unconfirmed
        lines.append(
            f"{counted(len(held), 'message')} went to the mail server before without an answer"
            f" ({_rows_named(held)}): {UNCONFIRMED_WHAT}"
        )
    if report.failures:
        lines.append(f"{counted(len(report.failures), 'message')} not sent:")
        lines.extend(f"  {f}" for f in report.failures)
    errors = plan.errors
    notes = [p for p in plan.problems if not p.error]
    if errors:
        lines.append(f"{counted(len(errors), 'row')} skipped:")
        lines.extend(f"  {p}" for p in errors)
    if notes:
        lines.append("Notes:")
        lines.extend(f"  {p}" for p in notes)
    return "\n".join(lines)


def exit_code(plan: Plan, report: Report) -> int:
    from mesocare.errors import ExitCode

    held = report.failures or plan.errors or report.unconfirmed or plan.unconfirmed
    return int(ExitCode.SKIPPED_ROWS) if held else 0
