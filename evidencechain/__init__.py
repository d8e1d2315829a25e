"""evidencechain: turn a candidate's AI work into a verifiable evidence-chain site."""

__version__ = "0.1.0"
