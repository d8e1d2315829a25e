"""The exception hierarchy: every error a user can meet, with a message they can act on.

Each class carries the exit code the CLI returns for it, so no stage needs to know about
the CLI to decide how serious its failure is.
"""

from __future__ import annotations


class EvidenceChainError(Exception):
    """Root of every user-facing error; the message is printed as one line."""

    exit_code = 1


class UsageError(EvidenceChainError):
    """The command was called wrongly (a missing workspace, a bad option value)."""

    exit_code = 2


class WorkspaceError(EvidenceChainError):
    """The workspace cannot be read or holds invalid manifests."""


class BuildError(EvidenceChainError):
    """The site could not be built or written."""


class ProvenanceError(EvidenceChainError):
    """Signing or trust configuration failed (a bad key, certificate or anchor file)."""
