"""A deterministic TEST certificate authority for signing Content Credentials.

Everything here is for tests and demos only: the private keys are derived from fixed
integers printed in this file, so anyone can forge signatures with them. Never configure the
root as a trust anchor outside a test.

The output is byte-for-byte reproducible: fixed keys, fixed serials, fixed validity and
deterministic ECDSA (RFC 6979) for the certificate signatures. Only `cryptography` is used
(no c2pa), so this module can be imported anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Fixed private scalars: public on purpose, this is a test CA.
ROOT_KEY_SEED = 0x0EC0_0001_7E57_C0DE_0000_0000_0000_0001
SIGNER_KEY_SEED = 0x0EC0_0002_7E57_C0DE_0000_0000_0000_0002
ROOT_SERIAL = 0x7E57_0001
SIGNER_SERIAL = 0x7E57_0002

# Long-lived so signed fixtures never expire (no TSA: c2pa checks the cert against *now*).
VALID_FROM = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
VALID_UNTIL = dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)

ORGANIZATION = "evidencechain test"
ROOT_CN = "Evidencechain Test Root CA"
SIGNER_CN = "Evidencechain Test Signer"

# emailProtection is accepted by c2pa-rs without extra trust configuration.
DEFAULT_EKUS: tuple[x509.ObjectIdentifier, ...] = (ExtendedKeyUsageOID.EMAIL_PROTECTION,)

CA_FILE = "ca.pem"
CHAIN_FILE = "signer-chain.pem"
KEY_FILE = "signer.key"


@dataclass(frozen=True)
class CertBundle:
    """PEM bytes of a test root CA and one end-entity signer it issued."""

    ca_pem: bytes
    chain_pem: bytes  # end-entity first, then the CA: the order c2pa expects
    key_pem: bytes  # PKCS#8, unencrypted


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _sign(builder: x509.CertificateBuilder, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    # Deterministic ECDSA keeps the certificate bytes identical from run to run.
    return builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)


def _root_cert(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(ROOT_CN))
        .issuer_name(_name(ROOT_CN))
        .public_key(public)
        .serial_number(ROOT_SERIAL)
        .not_valid_before(VALID_FROM)
        .not_valid_after(VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    return _sign(builder, key)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _signer_cert(
    key: ec.EllipticCurvePrivateKey,
    root_key: ec.EllipticCurvePrivateKey,
    ekus: Sequence[x509.ObjectIdentifier],
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(SIGNER_CN))
        .issuer_name(_name(ROOT_CN))
        .public_key(public)
        .serial_number(SIGNER_SERIAL)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(ekus)), critical=False)
    return _sign(builder, root_key)


def build_test_ca(
    *,
    ekus: Sequence[x509.ObjectIdentifier] = DEFAULT_EKUS,
    not_before: dt.datetime = VALID_FROM,
    not_after: dt.datetime = VALID_UNTIL,
) -> CertBundle:
    """Build the test root and signer in memory; the keyword arguments make broken variants.

    The defaults give the identity c2pa-rs accepts. Tests pass e.g. `ekus=(SERVER_AUTH,)`
    or a past `not_after` to get certificates c2pa must refuse.
    """
    root_key = ec.derive_private_key(ROOT_KEY_SEED, ec.SECP256R1())
    signer_key = ec.derive_private_key(SIGNER_KEY_SEED, ec.SECP256R1())
    root = _root_cert(root_key)
    signer = _signer_cert(signer_key, root_key, ekus, not_before, not_after)
    pem = serialization.Encoding.PEM
    return CertBundle(
        ca_pem=root.public_bytes(pem),
        chain_pem=signer.public_bytes(pem) + root.public_bytes(pem),
        key_pem=signer_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def make_test_ca(out_dir: Path) -> dict[str, Path]:
    """Write `ca.pem`, `signer-chain.pem` and `signer.key` into out_dir; return their paths.

    Keys of the result: "ca", "chain", "key". Running it twice writes identical bytes.
    """
    bundle = build_test_ca()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"ca": out_dir / CA_FILE, "chain": out_dir / CHAIN_FILE, "key": out_dir / KEY_FILE}
    paths["ca"].write_bytes(bundle.ca_pem)
    paths["chain"].write_bytes(bundle.chain_pem)
    paths["key"].write_bytes(bundle.key_pem)
    return paths
