"""Content Credentials (C2PA): verify assets offline and sign new ones.

This is the only module that imports `c2pa`. It turns c2pa-python's JSON into plain
`ProvenanceRecord`s with a verdict a reader of the site understands, and never lets a bad
file raise: a missing, empty, damaged or unsupported file gets a verdict and a one-sentence
reason instead. Reading is strictly offline (no remote manifests, no OCSP, no network hosts).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import mimetypes
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from evidencechain import __version__
from evidencechain.errors import ProvenanceError

VERIFIED = "verified"
UNKNOWN_SIGNER = "unknown-signer"
TAMPERED = "tampered"
NO_CREDENTIALS = "no-credentials"
UNREADABLE = "unreadable"

VERDICT_LABELS = {
    VERIFIED: "Verified",
    UNKNOWN_SIGNER: "Signed, unknown signer",
    TAMPERED: "Tampered / invalid",
    NO_CREDENTIALS: "No credentials",
    UNREADABLE: "Unreadable",
}

IPTC_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# Generative AI under IPTC; plain `algorithmicMedia` (no "trained") is not.
AI_SOURCE_TYPES = frozenset(
    IPTC_SOURCE_TYPE + name
    for name in ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia")
)

UNTRUSTED = "signingCredential.untrusted"

# Plain words for the failure codes a reader is most likely to meet.
_CODE_WORDS = {
    "assertion.dataHash.mismatch": "the content changed after signing",
    "assertion.bmffHash.mismatch": "the content changed after signing",
    "assertion.boxesHash.mismatch": "the content changed after signing",
    "assertion.hashedURI.mismatch": "a signed statement changed after signing",
    "claimSignature.mismatch": "the signature does not match the claim",
    "signingCredential.expired": "the signing certificate has expired",
    "signingCredential.revoked": "the signing certificate was revoked",
    "signingCredential.invalid": "the signing certificate is not valid for signing",
    "ingredient.manifest.missing": "an ingredient's credentials are missing",
    "manifest.multipleParents": "more than one parent ingredient",
}

# Only for reading; `trust` is added per TrustSettings. Each key is checked by a test,
# because c2pa accepts misspelled keys silently.
OFFLINE_SETTINGS: dict[str, Any] = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    "core": {"allowed_network_hosts": []},
}
# Signing adds: no manifest thumbnail (tens to hundreds of KB per asset otherwise).
SIGNING_SETTINGS: dict[str, Any] = {
    **OFFLINE_SETTINGS,
    "builder": {"thumbnail": {"enabled": False}},
}

_OID = re.compile(r"^[0-2](\.\d+)+$")
_HASH_CHUNK = 1 << 20


# --------------------------------------------------------------------------- trust


@dataclass(frozen=True)
class TrustSettings:
    """Trust anchors (concatenated PEM) and extra allowed certificate EKUs (dotted OIDs).

    An empty instance trusts nobody: every signed file then reads as "unknown signer".
    """

    anchors_pem: str = ""
    allowed_ekus: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # c2pa ignores bad EKU lines and fails every later read on a bad anchor: check now.
        object.__setattr__(self, "allowed_ekus", tuple(self.allowed_ekus))
        for eku in self.allowed_ekus:
            if not _OID.match(eku):
                raise ProvenanceError(
                    f"allowed EKU '{eku}' is not a dotted OID like 1.3.6.1.5.5.7.3.4"
                )
        if self.anchors_pem.strip():
            _parse_anchors(self.anchors_pem, "trust anchors")

    @classmethod
    def from_files(cls, paths: Iterable[Path], allowed_ekus: Iterable[str] = ()) -> TrustSettings:
        """Read PEM trust-anchor files; ProvenanceError names the first missing or bad file."""
        blocks = []
        for path in paths:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except FileNotFoundError:
                raise ProvenanceError(f"trust anchor file not found: {path}") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise ProvenanceError(f"cannot read trust anchor file {path}: {exc}") from None
            # Re-encode the certificates alone: drops comments, keys and odd line endings.
            pem = serialization.Encoding.PEM
            blocks.extend(c.public_bytes(pem).decode() for c in _parse_anchors(text, str(path)))
        return cls("".join(blocks), tuple(allowed_ekus))

    def digest(self) -> str:
        """SHA-256 hex of the trust-anchor set and EKUs: independent of order and PEM layout."""
        return _trust_digest(self.anchors_pem, self.allowed_ekus)

    def c2pa_trust(self) -> dict[str, str]:
        """The `trust` section of c2pa settings (empty when nothing is configured)."""
        trust = {}
        if self.anchors_pem.strip():
            trust["user_anchors"] = self.anchors_pem
        if self.allowed_ekus:
            trust["trust_config"] = "".join(eku + "\n" for eku in self.allowed_ekus)
        return trust


@functools.lru_cache(maxsize=32)
def _trust_digest(anchors_pem: str, allowed_ekus: tuple[str, ...]) -> str:
    # Hash certificate fingerprints, sorted, so file order and PEM whitespace do not matter.
    h = hashlib.sha256(b"evidencechain-trust-v1\n")
    certs = _parse_anchors(anchors_pem, "trust anchors") if anchors_pem.strip() else []
    for fingerprint in sorted({c.fingerprint(hashes.SHA256()).hex() for c in certs}):
        h.update(b"anchor " + fingerprint.encode() + b"\n")
    for eku in sorted(set(allowed_ekus)):
        h.update(b"eku " + eku.encode() + b"\n")
    return h.hexdigest()


def _parse_anchors(text: str, where: str) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(text.encode("utf-8"))
    except ValueError:
        certs = []
    if not certs:
        raise ProvenanceError(f"{where} holds no valid PEM certificate")
    return certs


_contexts: dict[tuple[int, str, str], c2pa.Context] = {}
_contexts_lock = threading.Lock()


def reading_context(trust: TrustSettings) -> c2pa.Context:
    """The offline c2pa Context for reading with `trust`, cached per process and settings.

    A Context cannot cross fork(), so the cache is keyed by process id as well.
    """
    return _cached_context("read", OFFLINE_SETTINGS, trust)


def _cached_context(kind: str, base: dict[str, Any], trust: TrustSettings) -> c2pa.Context:
    settings = {**base}
    if trust.c2pa_trust():
        settings["trust"] = trust.c2pa_trust()
    key = (os.getpid(), kind, json.dumps(settings, sort_keys=True))
    with _contexts_lock:
        ctx = _contexts.get(key)
        if ctx is None:
            ctx = c2pa.Context.from_dict(settings)
            _contexts[key] = ctx
        return ctx


@functools.cache
def c2pa_version() -> str:
    """The c2pa library version string, e.g. 'c2pa-c-ffi/0.91.3 c2pa-rs/0.91.3'."""
    return c2pa.c2pa.version()


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Ingredient:
    """One ingredient of the active manifest, with its own validation outcome."""

    title: str
    relationship: str
    active_manifest: str | None
    failure_codes: tuple[str, ...] = ()
    informational_codes: tuple[str, ...] = ()
    has_provenance: bool = False


@dataclass(frozen=True)
class ProvenanceRecord:
    """What verifying one file found, in words for people and codes for machines."""

    path: str
    sha256: str
    size: int
    verdict: str
    detail: str
    has_manifest: bool | None = None  # None: c2pa failed before it could tell
    c2pa_error: str | None = None  # c2pa's own message when it refused the file
    validation_state: str | None = None
    failure_codes: tuple[str, ...] = ()
    success_codes: tuple[str, ...] = ()
    informational_codes: tuple[str, ...] = ()
    signer_common_name: str | None = None
    signer_issuer: str | None = None
    signature_alg: str | None = None
    signed_at: str | None = None
    claim_generator: str | None = None
    title: str | None = None
    actions: tuple[str, ...] = ()
    digital_source_types: tuple[str, ...] = ()
    ai_generated: bool = False
    ai_in_history: bool = False
    software_agents: tuple[str, ...] = ()
    active_manifest: str | None = None
    remote_manifest_url: str | None = None
    ingredients: tuple[Ingredient, ...] = ()
    manifest_count: int = 0
    c2pa_version: str = ""
    trust_digest: str = ""
    verified_at: str = ""

    @property
    def verdict_label(self) -> str:
        """The verdict in plain words, e.g. "Signed, unknown signer"."""
        return VERDICT_LABELS[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists; includes verdict_label)."""
        # Field by field rather than dataclasses.asdict, which deep-copies every value: a
        # build turns thousands of records into cache entries and evidence.json.
        data: dict[str, Any] = {}
        for name in _RECORD_FIELDS:
            value = getattr(self, name)
            if name == "ingredients":
                value = [_ingredient_dict(i) for i in value]
            elif isinstance(value, tuple):
                value = list(value)
            data[name] = value
        data["verdict_label"] = self.verdict_label
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProvenanceRecord:
        """Rebuild a record from `to_dict()` output (e.g. a receipt on disk)."""
        values = {k: v for k, v in data.items() if k in _RECORD_FIELDS}
        for key, value in values.items():
            if isinstance(value, list) and key != "ingredients":
                values[key] = tuple(value)
        values["ingredients"] = tuple(
            Ingredient(
                **{
                    **i,
                    "failure_codes": tuple(i.get("failure_codes", ())),
                    "informational_codes": tuple(i.get("informational_codes", ())),
                }
            )
            for i in data.get("ingredients", ())
        )
        return cls(**values)


_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(ProvenanceRecord))
_INGREDIENT_FIELDS = tuple(f.name for f in dataclasses.fields(Ingredient))


def _ingredient_dict(ingredient: Ingredient) -> dict[str, Any]:
    return {name: list(value) if isinstance(value, tuple) else value
            for name in _INGREDIENT_FIELDS for value in (getattr(ingredient, name),)}


# --------------------------------------------------------------------------- verify


def verify_file(path: Path, trust: TrustSettings) -> ProvenanceRecord:
    """Verify one file's Content Credentials offline. Never raises for a bad or odd file."""
    path = Path(path)
    base: dict[str, Any] = {
        "path": str(path),
        "sha256": "",
        "size": 0,
        "c2pa_version": c2pa_version(),
        "trust_digest": trust.digest(),
        "verified_at": _now(),
    }
    try:
        stream = open(path, "rb")
    except FileNotFoundError:
        return _unreadable(base, "The file does not exist.", has_manifest=False)
    except OSError as exc:
        return _unreadable(base, f"The file cannot be opened: {exc.strerror or exc}.")
    with stream:
        try:
            base["sha256"], base["size"] = _sha256(stream)
            stream.seek(0)
        except OSError as exc:
            return _unreadable(base, f"The file cannot be read: {exc.strerror or exc}.")
        return _read(stream, path, trust, base)


def _read(stream, path: Path, trust: TrustSettings, base: dict[str, Any]) -> ProvenanceRecord:
    """Run the c2pa Reader over an open stream and turn what it says into a record."""
    try:
        reader = c2pa.Reader(_reader_format(path), stream, context=reading_context(trust))
    except c2pa.C2paError as exc:
        return ProvenanceRecord(**base, **_classify_error(exc, path, base["size"]))
    except Exception as exc:  # the binding can raise plain errors on odd streams
        return _unreadable(base, f"c2pa could not read the file ({_one_line(exc)}).")
    with reader:
        try:
            store = json.loads(reader.json())
            state = reader.get_validation_state()
        except Exception as exc:
            return _unreadable(base, f"c2pa could not report on the file ({_one_line(exc)}).")
    try:
        fields = _describe_store(store, state)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        # A manifest shaped unlike anything c2pa documents: say so rather than crash.
        return _unreadable(base, f"The manifest has an unexpected structure ({_one_line(exc)}).")
    return ProvenanceRecord(**base, **fields)


def _unreadable(base: dict[str, Any], detail: str, **extra: Any) -> ProvenanceRecord:
    return ProvenanceRecord(**base, verdict=UNREADABLE, detail=detail, **extra)


def verify_files(
    paths: Sequence[Path], trust: TrustSettings, workers: int = 2
) -> list[ProvenanceRecord]:
    """Verify many files in a thread pool (c2pa releases the GIL); results keep input order."""
    paths = list(paths)
    if workers <= 1 or len(paths) <= 1:
        return [verify_file(p, trust) for p in paths]
    reading_context(trust)  # build once, before the threads race for it
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda p: verify_file(p, trust), paths))


def _now() -> str:
    return (
        dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


def _sha256(stream) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    while chunk := stream.read(_HASH_CHUNK):
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size


@functools.lru_cache(maxsize=2)
def _supported(kind: str) -> frozenset[str]:
    """Formats (MIME types and bare extensions) c2pa can read ("read") or sign ("build")."""
    reader_or_builder = c2pa.Reader if kind == "read" else c2pa.Builder
    return frozenset(reader_or_builder.get_supported_mime_types())


def _format_of(path: Path, kind: str) -> str:
    """A format c2pa knows for this file name, or "" (c2pa then detects it from the bytes)."""
    supported = _supported(kind)
    ext = path.suffix.lower().lstrip(".")
    if ext in supported:
        return ext
    mime = mimetypes.guess_type(path.name)[0] or ""
    return mime if mime in supported else ""


def can_carry_credentials(path: Path) -> bool:
    """True when the file's format is one c2pa reads credentials from (by its name)."""
    return bool(_format_of(Path(path), "read"))


def can_sign(path: Path) -> bool:
    """True when c2pa can write credentials into this file's format (by its name)."""
    return bool(_format_of(Path(path), "build"))


def _reader_format(path: Path) -> str:
    return _format_of(path, "read")


def _one_line(exc: BaseException | str) -> str:
    return " ".join(str(exc).split()).rstrip(".")


def _c2pa_reason(exc: c2pa.C2paError) -> str:
    """c2pa's message without its "Kind: " prefix, on one line."""
    text = _one_line(exc)
    kind, sep, rest = text.partition(": ")
    return rest if sep and " " not in kind else text


def _classify_error(exc: c2pa.C2paError, path: Path, size: int) -> dict[str, Any]:
    """Verdict, detail and has_manifest for a file c2pa refused to read."""
    reason = _c2pa_reason(exc)
    text = _one_line(exc)
    fields: dict[str, Any] = {"verdict": UNREADABLE, "c2pa_error": text, "has_manifest": None}
    if isinstance(exc, c2pa.C2paError.ManifestNotFound):
        fields.update(
            verdict=NO_CREDENTIALS,
            has_manifest=False,
            detail="The file carries no Content Credentials.",
        )
    elif isinstance(exc, c2pa.C2paError.NotSupported) and not _reader_format(path):
        fields.update(
            verdict=NO_CREDENTIALS,
            has_manifest=False,
            detail="This file format cannot carry Content Credentials.",
        )
    elif isinstance(exc, c2pa.C2paError.NotSupported):
        # Named like a media type c2pa reads, but the bytes are not one.
        what = "empty" if size == 0 else f"not a readable {path.suffix.lstrip('.').upper()} file"
        fields.update(has_manifest=False, detail=f"The file is {what}.")
    elif isinstance(exc, c2pa.C2paError.RemoteManifest) or text.startswith("Remote"):
        url = _url_in(text)
        where = f" at {url}" if url else ""
        # Offline by design: a remote manifest is never fetched.
        fields.update(
            has_manifest=True,
            remote_manifest_url=url,
            detail=f"The credentials are in a remote manifest, not fetched (offline){where}.",
        )
    elif isinstance(exc, c2pa.C2paError.Decoding):
        fields.update(
            has_manifest=True,
            detail=f"The Content Credentials are damaged and cannot be decoded ({reason}).",
        )
    elif isinstance(exc, c2pa.C2paError.Signature):
        fields.update(
            has_manifest=True,
            detail=f"The signature or its certificate cannot be parsed ({reason}).",
        )
    else:
        # "Other" covers both unreadable manifests and unparsable media: presence unknown.
        fields.update(detail=f"The Content Credentials cannot be read ({reason}).")
    return fields


def _url_in(text: str) -> str | None:
    match = re.search(r"https?://[^\s\"')]+", text)
    return match.group(0) if match else None


def _describe_store(store: dict[str, Any], state: str | None) -> dict[str, Any]:
    """Record fields from a manifest store (Reader.json()) and its validation state."""
    label = store.get("active_manifest")
    manifests = store.get("manifests") or {}
    manifest = manifests.get(label) or {}
    results = store.get("validation_results") or {}
    active = results.get("activeManifest") or {}
    failures = _codes(active.get("failure"))
    if not active and store.get("validation_status"):
        failures = _codes(store["validation_status"])  # older readers: one flat list
    signature = manifest.get("signature_info") or {}
    source_types = _source_types(manifest)
    verdict, detail = _verdict(state, failures, signature)
    return {
        "verdict": verdict,
        "detail": detail,
        "has_manifest": True,
        "validation_state": state,
        "failure_codes": failures,
        "success_codes": _codes(active.get("success")),
        "informational_codes": _codes(active.get("informational")),
        "signer_common_name": signature.get("common_name"),
        "signer_issuer": signature.get("issuer"),
        "signature_alg": str(signature["alg"]).upper() if signature.get("alg") else None,
        "signed_at": signature.get("time"),
        "claim_generator": _claim_generator(manifest),
        "title": manifest.get("title"),
        "actions": tuple(a.get("action", "") for a in _actions(manifest)),
        "digital_source_types": source_types,
        "ai_generated": any(t in AI_SOURCE_TYPES for t in source_types),
        "ai_in_history": any(
            t in AI_SOURCE_TYPES for m in manifests.values() for t in _source_types(m)
        ),
        "software_agents": _software_agents(manifest),
        "active_manifest": label,
        "ingredients": _ingredients(manifest, results.get("ingredientDeltas") or []),
        "manifest_count": len(manifests),
    }


def _verdict(
    state: str | None, failures: tuple[str, ...], signature: dict[str, Any]
) -> tuple[str, str]:
    signer = signature.get("common_name") or "an unnamed signer"
    if signature.get("issuer"):
        signer += f" ({signature['issuer']})"
    serious = [c for c in failures if c != UNTRUSTED]
    if state == "Trusted" and not failures:
        return VERIFIED, f"Signed by {signer}, a trusted signer, and unchanged since signing."
    if state in ("Trusted", "Valid") and not serious:
        return UNKNOWN_SIGNER, (
            f"Signed by {signer}, who is not in the trust list; unchanged since signing."
        )
    if state is None and not failures:
        return UNREADABLE, "c2pa reported no validation result for the credentials."
    listed = serious or list(failures) or ["no failure code given"]
    words = "; ".join(f"{c} ({_CODE_WORDS[c]})" if c in _CODE_WORDS else c for c in listed)
    return TAMPERED, f"Validation failed: {words}."


def _codes(entries: Any) -> tuple[str, ...]:
    """Distinct status codes in first-seen order."""
    seen: dict[str, None] = {}
    for entry in entries or ():
        code = entry.get("code") if isinstance(entry, dict) else None
        if code:
            seen.setdefault(code, None)
    return tuple(seen)


def _actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    actions = []
    for assertion in manifest.get("assertions") or ():
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            actions.extend(
                a for a in (assertion.get("data") or {}).get("actions") or () if isinstance(a, dict)
            )
    return actions


def _source_types(manifest: dict[str, Any]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for action in _actions(manifest):
        value = action.get("digitalSourceType")
        if isinstance(value, str) and value:
            seen.setdefault(value, None)
    return tuple(seen)


def _agent_name(agent: Any) -> str | None:
    if isinstance(agent, str):
        return agent or None
    if isinstance(agent, dict) and agent.get("name"):
        return str(agent["name"])
    return None


def _software_agents(manifest: dict[str, Any]) -> tuple[str, ...]:
    """Tool and model names from the actions (softwareAgent, or an index into softwareAgents)."""
    seen: dict[str, None] = {}
    for assertion in manifest.get("assertions") or ():
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        data = assertion.get("data") or {}
        listed = data.get("softwareAgents") or []
        for action in data.get("actions") or ():
            agent = action.get("softwareAgent")
            index = action.get("softwareAgentIndex")
            if agent is None and isinstance(index, int) and 0 <= index < len(listed):
                agent = listed[index]
            name = _agent_name(agent)
            if name:
                seen.setdefault(name, None)
        for agent in listed:
            name = _agent_name(agent)
            if name:
                seen.setdefault(name, None)
    return tuple(seen)


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    if manifest.get("claim_generator"):
        return str(manifest["claim_generator"])
    info = manifest.get("claim_generator_info") or []
    if info and isinstance(info[0], dict) and info[0].get("name"):
        version = info[0].get("version")
        return f"{info[0]['name']}/{version}" if version else str(info[0]["name"])
    return None


def _ingredients(manifest: dict[str, Any], deltas: list[dict[str, Any]]) -> tuple[Ingredient, ...]:
    """Ingredients with their codes: their own validation results plus the store's deltas."""
    by_label: dict[str, dict[str, Any]] = {}
    for delta in deltas:
        uri = str(delta.get("ingredientAssertionURI", ""))
        by_label[uri.rsplit("/", 1)[-1]] = delta.get("validationDeltas") or {}
    result = []
    for item in manifest.get("ingredients") or ():
        own = ((item.get("validation_results") or {}).get("activeManifest")) or {}
        delta = by_label.get(str(item.get("label", "")), {})
        failures = _codes([*(own.get("failure") or ()), *(delta.get("failure") or ())])
        if not own and item.get("validation_status"):
            failures = _codes([*item["validation_status"], *(delta.get("failure") or ())])
        informational = _codes(
            [*(own.get("informational") or ()), *(delta.get("informational") or ())]
        )
        result.append(
            Ingredient(
                title=str(item.get("title") or ""),
                relationship=str(item.get("relationship") or ""),
                active_manifest=item.get("active_manifest"),
                failure_codes=failures,
                informational_codes=informational,
                has_provenance=bool(item.get("active_manifest")),
            )
        )
    return tuple(result)


# --------------------------------------------------------------------------- sign


@dataclass(frozen=True)
class SigningIdentity:
    """A certificate chain (end-entity first) and its private key, both PEM."""

    chain_pem: bytes
    key_pem: bytes = field(repr=False)
    alg: str = "es256"

    @classmethod
    def from_files(cls, cert_path: Path, key_path: Path, alg: str | None = None) -> SigningIdentity:
        """Read a PEM chain and key; `alg` defaults to the one the key type implies."""
        chain = _read_pem(Path(cert_path), "certificate chain")
        key = _read_pem(Path(key_path), "private key")
        try:
            x509.load_pem_x509_certificates(chain)
        except ValueError:
            raise ProvenanceError(f"{cert_path} holds no valid PEM certificate") from None
        return cls(chain, key, alg or _alg_for_key(key, Path(key_path)))


def _read_pem(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProvenanceError(f"{what} file not found: {path}") from None
    except OSError as exc:
        raise ProvenanceError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    if b"-----BEGIN" not in data:
        raise ProvenanceError(f"{what} file is not PEM: {path}")
    return data


def _alg_for_key(key_pem: bytes, path: Path) -> str:
    try:
        key = load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ProvenanceError(f"cannot load private key {path}: {_one_line(exc)}") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        bits = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in bits:
            return bits[key.curve.name]
    raise ProvenanceError(f"unsupported private key type in {path}")


def digital_source_type_uri(value: str) -> str:
    """Expand a short IPTC name ("trainedAlgorithmicMedia") to its full URI."""
    return value if "://" in value else IPTC_SOURCE_TYPE + value


def sign_asset(
    src: Path,
    dst: Path,
    identity: SigningIdentity,
    *,
    title: str,
    digital_source_type: str | None,
    software_agents: Sequence[str] = (),
    ingredients: Sequence[Path] = (),
    claim_generator: str = f"evidencechain/{__version__}",
    trust: TrustSettings | None = None,
) -> None:
    """Write a signed copy of `src` at `dst` (atomically; src is untouched unless dst == src).

    Without ingredients the manifest says `c2pa.created` (c2pa requires a digital source
    type then). With ingredients, the first is the `parentOf` ingredient (`c2pa.opened`) and
    the rest are `componentOf` (`c2pa.placed`), because C2PA allows one parent; then
    `c2pa.edited`. `trust` is used to validate the ingredients, whose results c2pa stores
    in the new manifest (without anchors a signed raw file is recorded as untrusted), and
    to allow extra EKUs for the signing certificate. No timestamp authority, no network.
    Raises ProvenanceError with c2pa's reason on one line.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise ProvenanceError(f"cannot sign {src}: file not found")
    fmt = _format_of(src, "build")
    if not fmt:
        raise ProvenanceError(f"cannot sign {src}: this format cannot carry Content Credentials")
    manifest = _manifest(
        src, title, digital_source_type, software_agents, ingredients, claim_generator
    )
    context = _cached_context("sign", SIGNING_SETTINGS, trust or TrustSettings())
    try:
        signer = c2pa.Signer.from_info(
            c2pa.C2paSignerInfo(identity.alg, identity.chain_pem, identity.key_pem, None)
        )
    except (c2pa.C2paError, ValueError, TypeError) as exc:
        raise ProvenanceError(f"cannot sign {src.name}: {_c2pa_reason(exc)}") from None
    with signer:
        try:
            builder = c2pa.Builder(manifest, context=context)
        except c2pa.C2paError as exc:
            raise ProvenanceError(f"cannot sign {src.name}: {_c2pa_reason(exc)}") from None
        with builder:
            _add_ingredients(builder, ingredients)
            _write_signed(builder, signer, fmt, src, dst)


def _ingredient_label(index: int) -> str:
    return f"ingredient-{index + 1}"


def _manifest(
    src: Path,
    title: str,
    digital_source_type: str | None,
    software_agents: Sequence[str],
    ingredients: Sequence[Path],
    claim_generator: str,
) -> dict[str, Any]:
    source_type = digital_source_type_uri(digital_source_type) if digital_source_type else None
    if not ingredients and not source_type:
        raise ProvenanceError(
            f"cannot sign {src.name}: an asset made from scratch needs a digital source type "
            "(e.g. trainedAlgorithmicMedia or digitalCreation)"
        )
    last: dict[str, Any] = {"action": "c2pa.edited" if ingredients else "c2pa.created"}
    if source_type:
        last["digitalSourceType"] = source_type
    if software_agents:
        last["softwareAgent"] = {"name": software_agents[0]}
    actions = []
    for i, _ in enumerate(ingredients):
        verb = "c2pa.opened" if i == 0 else "c2pa.placed"
        actions.append({"action": verb, "parameters": {"ingredientIds": [_ingredient_label(i)]}})
    data: dict[str, Any] = {"actions": [*actions, last]}
    if len(software_agents) > 1:
        # One action names one agent; the full list goes beside the actions.
        data["softwareAgents"] = [{"name": a} for a in software_agents]
    name, _, version = claim_generator.partition("/")
    generator = {"name": name, **({"version": version} if version else {})}
    return {
        "claim_generator_info": [generator],
        "title": title,
        "assertions": [{"label": "c2pa.actions", "data": data}],
    }


def _add_ingredients(builder: c2pa.Builder, ingredients: Sequence[Path]) -> None:
    for i, raw in enumerate(ingredients):
        raw = Path(raw)
        fmt = _format_of(raw, "read")
        if not fmt:
            raise ProvenanceError(f"ingredient {raw} is in a format c2pa cannot read")
        spec = {
            "title": raw.name,
            "relationship": "parentOf" if i == 0 else "componentOf",
            "label": _ingredient_label(i),
        }
        try:
            with open(raw, "rb") as stream:
                builder.add_ingredient(spec, fmt, stream)
        except FileNotFoundError:
            raise ProvenanceError(f"ingredient not found: {raw}") from None
        except c2pa.C2paError as exc:
            raise ProvenanceError(
                f"cannot add ingredient {raw.name}: {_c2pa_reason(exc)}"
            ) from None


def _write_signed(
    builder: c2pa.Builder, signer: c2pa.Signer, fmt: str, src: Path, dst: Path
) -> None:
    """Sign into a temp file beside dst, then rename it over dst in one step."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    tmp = Path(tmp_name)
    try:
        with open(src, "rb") as source, os.fdopen(fd, "w+b") as out:
            try:
                builder.sign(signer, fmt, source, out)
            except c2pa.C2paError as exc:
                raise ProvenanceError(f"cannot sign {src.name}: {_c2pa_reason(exc)}") from None
        shutil.copymode(src, tmp)  # mkstemp makes it owner-only; keep the source's mode
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
