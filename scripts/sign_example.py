"""Sign the example workspace's assets with the TEST CA, then stage two deliberate problems.

Full regeneration of the example's assets, from the repository root:

    python scripts/make_example_assets.py && python scripts/sign_example.py

The first script draws fresh, unsigned images; this one:

1. writes the deterministic test CA's certificate to
   example_site/trust/evidencechain-test-ca.pem (the anchor example_site/evidencechain.yml
   lists); the signer's key and chain go to a temp folder that is deleted afterwards,
   never into example_site/ (anyone can re-derive them from evidencechain/testca.py anyway:
   this CA is for demos only);
2. runs `evidencechain sign example_site --in-place` through the real CLI, which signs every
   asset whose manifest says how it was made, sources before the files made from them;
3. tampers with ONE asset on purpose: flips one byte of image data in the v4 raw generation
   of the brand campaign, the plate the final was built on. The final still verifies on its
   own (c2pa does not carry an ingredient's damage into the final), so only evidencechain
   shows it: the cross-check of the declared chain in `check`, the final's "ingredient fails
   verification" badge on the page, and `verify` given the raw file too;
4. leaves ONE asset unsigned on purpose: the client's packshot, which has no `source_type`
   (the candidate did not make it, so signing it would claim too much).

It refuses to run on assets that are already signed: signing skips them, and tampering a
second time would undo the first flip.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout, uninstalled

from click.testing import CliRunner  # noqa: E402
from PIL import Image  # noqa: E402

from evidencechain.cli import main as cli  # noqa: E402
from evidencechain.provenance import TAMPERED, TrustSettings, verify_file  # noqa: E402
from evidencechain.testca import build_test_ca  # noqa: E402

WORKSPACE = ROOT / "example_site"
CA_FILE = WORKSPACE / "trust" / "evidencechain-test-ca.pem"
BRAND = WORKSPACE / "projects" / "brand-campaign-visuals"
TAMPER = BRAND / "assets" / "raw" / "v4-flux-schnell-seed-771203.jpg"
UNSIGNED = BRAND / "assets" / "reference" / "halden-packshot-client.jpg"
MEDIA = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".avif"}


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _run(*args: str | Path) -> str:
    """Run `evidencechain ARGS` in-process; stop the script if it fails."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    if result.exit_code != 0:
        sys.exit(f"evidencechain {' '.join(map(str, args))} failed:\n{result.output}")
    return result.output


def _refuse_signed_assets() -> None:
    media = [p for p in sorted((WORKSPACE / "projects").rglob("*")) if p.suffix.lower() in MEDIA]
    signed = [p for p in media if verify_file(p, TrustSettings()).has_manifest]
    if signed:
        sys.exit(f"{_rel(signed[0])} (and {len(signed) - 1} more) already carry credentials; "
                 "regenerate the assets first:\n  python scripts/make_example_assets.py && "
                 "python scripts/sign_example.py")


def _flip_image_byte(path: Path) -> int:
    """XOR one byte of the JPEG's entropy-coded data (after the last SOS marker) with 0x01.

    The byte is picked so the edit can neither create nor break a JPEG marker: the picture
    still decodes (the site still builds its display copies), only its hash changes.
    """
    data = bytearray(path.read_bytes())
    scan = data.rindex(b"\xff\xda")
    at = scan + (len(data) - scan) // 2
    while data[at] in (0x00, 0xFE, 0xFF) or data[at - 1] == 0xFF:
        at += 1
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    with Image.open(path) as image:
        image.load()
    return at


def main() -> int:
    """Write the CA, sign in place, tamper one asset, check the result, say what happened."""
    _refuse_signed_assets()
    bundle = build_test_ca()
    CA_FILE.parent.mkdir(parents=True, exist_ok=True)
    CA_FILE.write_bytes(bundle.ca_pem)
    print(f"wrote the test CA certificate: {_rel(CA_FILE)}")
    trust = TrustSettings.from_files([CA_FILE])

    with tempfile.TemporaryDirectory(prefix="evidencechain-test-signer-") as tmp:
        chain, key = Path(tmp) / "signer-chain.pem", Path(tmp) / "signer.key"
        chain.write_bytes(bundle.chain_pem)
        key.write_bytes(bundle.key_pem)
        print(_run("sign", WORKSPACE, "--in-place", "--cert", chain, "--key", key), end="")

    offset = _flip_image_byte(TAMPER)
    if verify_file(TAMPER, trust).verdict != TAMPERED:
        sys.exit(f"{_rel(TAMPER)}: the flipped byte was not detected; pick another one")
    print(f"tampered on purpose: {_rel(TAMPER)} (one byte of image data at offset {offset})")
    if verify_file(UNSIGNED, trust).has_manifest is not False:
        sys.exit(f"{_rel(UNSIGNED)} was meant to stay unsigned")
    print(f"unsigned on purpose: {_rel(UNSIGNED)} (no source_type: the client's photo)")

    print("\nevidencechain verify example_site/projects --trust " + _rel(CA_FILE))
    verify = CliRunner().invoke(cli, ["verify", str(WORKSPACE / "projects"), "--trust",
                                      str(CA_FILE)])
    print(verify.output, end="")  # exit 1 is expected: one asset is tampered
    return 0


if __name__ == "__main__":
    sys.exit(main())
