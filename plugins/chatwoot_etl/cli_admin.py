"""Administration commands of chatwoot-etl: source inspection, tenants and inbox mappings."""

from __future__ import annotations

import argparse

# Top-level command names this module adds to the CLI.
COMMANDS: tuple[str, ...] = ()


def register(commands: argparse._SubParsersAction) -> None:
    """Add the administration subcommands to the CLI's parser."""


def run(args: argparse.Namespace) -> int:
    """Run an administration command; the CLI's exit code."""
    raise NotImplementedError(args.command)
