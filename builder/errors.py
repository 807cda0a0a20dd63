"""The one exception family: every error a user can cause is a ClickException (no traceback)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import click


class AnkibuildError(click.ClickException):
    """Root of every error ankibuild reports to a user."""


class ConfigError(AnkibuildError):
    """The `[tool.ankibuild]` configuration is unusable."""


@dataclass(frozen=True, order=True)
class Finding:
    """One problem in one place: `path:line: card 'id': message (fix)`."""

    path: str
    line: int
    card_id: str | None
    message: str
    fix: str = ""
    severity: str = "error"  # "error" fails a build; "warning" fails only `check --strict`
    rule: str = ""

    def format(self) -> str:
        where = f"{self.path}:{self.line}: "
        who = f"card '{self.card_id}': " if self.card_id else ""
        prefix = "warning: " if self.severity == "warning" else ""
        fix = f" ({self.fix})" if self.fix else ""
        return f"{where}{prefix}{who}{self.message}{fix}"


class ValidationFailed(AnkibuildError):  # noqa: N818 - reads as what happened
    """Cards have errors; carries every finding so all of them are reported in one run."""

    def __init__(self, findings: Sequence[Finding]):
        self.findings = list(findings)
        errors = sum(f.severity == "error" for f in self.findings)
        warnings = len(self.findings) - errors
        lines = [f.format() for f in self.findings]
        lines.append(f"{errors} error(s), {warnings} warning(s); nothing was written.")
        super().__init__("\n".join(lines))

    def show(self, file=None) -> None:
        # The findings are the message: no "Error:" prefix, so editors can parse each line.
        click.echo(self.format_message(), err=True, file=file)
