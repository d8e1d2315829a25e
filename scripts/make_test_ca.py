"""Write a deterministic TEST CA for signing Content Credentials (never trust it in production).

Usage: python scripts/make_test_ca.py OUT_DIR
Writes OUT_DIR/ca.pem, OUT_DIR/signer-chain.pem (end-entity, then CA) and OUT_DIR/signer.key.
The logic lives in evidencechain.testca so tests can import it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from evidencechain.testca import make_test_ca  # noqa: E402


def main(argv: list[str]) -> int:
    """Entry point: one argument, the output directory."""
    if len(argv) != 1:
        print("usage: python scripts/make_test_ca.py OUT_DIR", file=sys.stderr)
        return 2
    for path in make_test_ca(Path(argv[0])).values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
