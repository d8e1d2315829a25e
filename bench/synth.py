"""Synthetic evidencechain workspaces for benchmarks: N projects x M assets, cached on disk.

    python bench/synth.py --projects 100 --assets 10 [--max-megapixels 12]   # prints its path

Each project has a full manifest (brief, case study, iterations, failures, model card,
workflow) and M assets: JPEGs of 1 to 12 megapixels and PNGs of 1 to 4 (AI generations are
mostly small PNGs; photos and upscales large JPEGs), about half signed with the TEST CA
(`evidencechain.testca`), finals signed with their raw source as a C2PA ingredient and
declared `derived_from` it. The workspace is a git repository with the manifests committed
(assets stay untracked, so `git` does not copy gigabytes), so git history is read too.

Generating is slow (encoding and signing thousands of images), so a workspace is made once
and kept under `$TMPDIR/evidencechain-bench/` in a folder named by every parameter;
later calls return it at once. Every asset's bytes are unique (a per-asset comment segment
in the file), so no cache can share work between two assets, as in real work; the pixels
come from a small pool of base images, because drawing 5000 distinct pictures would take
longer than the benchmark itself.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# Bump when the generated content changes, so older cached workspaces are not reused.
GENERATOR_VERSION = 1
JPEG_MEGAPIXELS = (1, 2, 4, 8, 12)
PNG_MEGAPIXELS = (1, 2, 4)
ASPECTS = ((1, 1), (3, 2), (4, 3), (16, 9))
BASES_PER_SIZE = 2
CA_FILE = "trust/test-ca.pem"


@dataclass(frozen=True)
class Params:
    """What a synthetic workspace is made of; the cache folder is named after it."""

    projects: int
    assets: int
    max_megapixels: float = 12.0
    seed: int = 1

    @property
    def name(self) -> str:
        return (f"ws-p{self.projects}-a{self.assets}-mp{self.max_megapixels:g}-s{self.seed}"
                f"-g{GENERATOR_VERSION}")

    def scale(self, megapixels: float) -> float:
        """Megapixels of a base image: the nominal size, scaled down when max < 12."""
        return megapixels * min(1.0, self.max_megapixels / 12.0)


def cache_root() -> Path:
    """Where generated workspaces are kept (outside any repository, reused across runs)."""
    return Path(tempfile.gettempdir()) / "evidencechain-bench"


def ensure_workspace(params: Params, *, quiet: bool = False) -> Path:
    """The workspace for `params`, generated now unless a complete one is cached."""
    target = cache_root() / params.name
    if (target / ".complete").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    if not quiet:
        print(f"generating {params.name} (once; cached in {target.parent}) ...", file=sys.stderr)
    _generate(params, partial)
    (partial / ".complete").write_text("ok\n")
    shutil.rmtree(target, ignore_errors=True)  # an older, incomplete attempt
    partial.rename(target)
    return target


# --------------------------------------------------------------------------- images


def _base_image(width: int, height: int, seed: int):
    """A photo-like picture: smooth colour fields plus fine grain (compresses like a photo)."""
    from PIL import Image, ImageChops

    random.seed(seed)
    fields = [Image.effect_noise((width // 24 + 2, height // 24 + 2), 70)
              .resize((width, height), Image.Resampling.BICUBIC) for _ in range(3)]
    grain = Image.effect_noise((width, height), 6)
    return ImageChops.add(Image.merge("RGB", fields), Image.merge("RGB", [grain] * 3),
                          scale=1.0, offset=-128)


def _size_for(megapixels: float, aspect: tuple[int, int]) -> tuple[int, int]:
    a, b = aspect
    height = int((megapixels * 1_000_000 * b / a) ** 0.5)
    return max(64, height * a // b), max(64, height)


def _make_base(job: tuple[str, float, tuple[int, int], int, Path]) -> Path:
    fmt, megapixels, aspect, seed, out = job
    image = _base_image(*_size_for(megapixels, aspect), seed)
    buffer = io.BytesIO()
    if fmt == "jpg":
        image.save(buffer, "JPEG", quality=90)
    else:
        image.save(buffer, "PNG", compress_level=6)
    out.write_bytes(buffer.getvalue())
    return out


def _bases(params: Params, folder: Path) -> dict[str, list[Path]]:
    """The pool of base images by format, drawn in parallel."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = []
    for fmt, sizes in (("jpg", JPEG_MEGAPIXELS), ("png", PNG_MEGAPIXELS)):
        for mp in sizes:
            for i in range(BASES_PER_SIZE):
                aspect = ASPECTS[(i + mp) % len(ASPECTS)]
                seed = zlib.crc32(f"{fmt}-{mp}-{i}-{params.seed}".encode())
                jobs.append((fmt, params.scale(mp), aspect, seed,
                             folder / f"{fmt}-{mp}mp-{i}.{fmt}"))
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        made = list(pool.map(_make_base, jobs))
    return {fmt: [p for p in made if p.suffix == f".{fmt}"] for fmt in ("jpg", "png")}


def _unique(data: bytes, tag: str) -> bytes:
    """The same picture with a comment naming the asset, so no two files share bytes."""
    text = f"evidencechain-bench {tag}".encode()
    if data[:2] == b"\xff\xd8":  # JPEG: a COM segment right after SOI
        return data[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + data[2:]
    ihdr_end = 8 + 8 + 13 + 4  # PNG: a tEXt chunk right after IHDR
    body = b"Comment\x00" + text
    chunk = (struct.pack(">I", len(body)) + b"tEXt" + body
             + struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF))
    return data[:ihdr_end] + chunk + data[ihdr_end:]


# --------------------------------------------------------------------------- projects


@dataclass(frozen=True)
class _Asset:
    path: str
    role: str
    base: str
    signed: bool
    derived_from: str | None = None


def _plan_assets(rng: random.Random, count: int, bases: dict[str, list[Path]]) -> list[_Asset]:
    """Raws (mostly PNG generations), intermediates, then finals made from a raw."""
    finals = max(1, count // 5)
    raws = max(1, count - finals - count // 10)
    plan = []
    for i in range(count):
        role = "raw" if i < raws else "final" if i >= count - finals else "intermediate"
        fmt = "png" if role == "raw" and rng.random() < 0.6 else "jpg"
        base = rng.choice(bases[fmt]).name
        signed = rng.random() < 0.5
        source = None
        if role == "final":
            source = plan[rng.randrange(raws)]
            signed = signed or source.signed
        plan.append(_Asset(f"assets/{role}/{role}-{i:02d}.{fmt}", role, base, signed,
                           source.path if source else None))
    return plan


def _make_project(job: tuple[Params, int, Path, Path, Path]) -> None:
    params, index, root, bases_dir, ca_pem = job
    from evidencechain.provenance import SigningIdentity, TrustSettings, sign_asset
    from evidencechain.testca import build_test_ca

    rng = random.Random(params.seed * 1_000_003 + index)
    bases = {"jpg": sorted(bases_dir.glob("*.jpg")), "png": sorted(bases_dir.glob("*.png"))}
    plan = _plan_assets(rng, params.assets, bases)
    slug = f"project-{index:04d}"
    folder = root / "projects" / slug
    bundle = build_test_ca()
    identity = SigningIdentity(bundle.chain_pem, bundle.key_pem)
    trust = TrustSettings(ca_pem.read_text())
    for asset in plan:  # raws first: a final's ingredient must be signed before it
        target = folder / asset.path
        target.parent.mkdir(parents=True, exist_ok=True)
        data = _unique((bases_dir / asset.base).read_bytes(), f"{slug}/{asset.path}")
        if not asset.signed:
            target.write_bytes(data)
            continue
        unsigned = target.with_name("unsigned-" + target.name)
        unsigned.write_bytes(data)
        ingredients = [folder / asset.derived_from] if asset.derived_from else []
        sign_asset(unsigned, target, identity, title=target.name,
                   digital_source_type=None if ingredients else "trainedAlgorithmicMedia",
                   software_agents=["Synthetic Diffusion 1.0"], ingredients=ingredients,
                   trust=trust)
        unsigned.unlink()
    (folder / "evidence.yml").write_text(_manifest(slug, index, plan), encoding="utf-8")


_PARAGRAPH = ("The brief asked for {what} that a reviewer could check line by line. I wrote "
              "the acceptance criteria down before the first generation, measured every "
              "iteration against them and kept the failures in the log. Iteration {n} moved "
              "the main metric from {a} to {b}; the remaining gap is described under "
              "trade-offs, with what I would try next and why I stopped there.")


def _text(rng: random.Random, what: str) -> str:
    a, b = sorted(rng.sample(range(40, 99), 2))
    return _PARAGRAPH.format(what=what, n=rng.randrange(1, 5), a=a, b=b)


def _manifest(slug: str, index: int, plan: list[_Asset]) -> str:
    rng = random.Random(index)
    lines = [
        "schema_version: 1",
        f"title: Synthetic project {index} - campaign visuals, round {index % 7 + 1}",
        f"summary: Delivered {len(plan)} assets for a synthetic client, palette error "
        f"{rng.randrange(2, 5)}.{rng.randrange(10)} against a limit of 5.",
        "kind: ai-creative",
        "source: client",
        "role: Sole author",
        "dates:",
        f"  start: 2024-{index % 12 + 1:02d}-01",
        "brief:",
        f"  text: {_text(rng, 'a key visual')!r}",
        "  constraints:",
        "    - Brand palette within Delta E 5",
        "    - No people in the image",
        "  success_metrics:",
        "    - name: Palette fidelity",
        "      target: mean Delta E <= 5",
        "      achieved: mean Delta E 3.1",
        "      met: true",
        "case_study:",
    ]
    for key in ("problem", "why_it_matters", "approach", "evaluation", "tradeoffs", "learned"):
        lines.append(f"  {key}: {_text(rng, key.replace('_', ' '))!r}")
    lines += ["  decisions:", "    - decision: Lock the layout with a depth map",
              "      rationale: Later passes could then not move the subject",
              "      alternatives: [Prompting alone]"]
    raws = [a.path for a in plan if a.role == "raw"]
    lines.append("iterations:")
    for i in range(3):
        lines += [f"  - id: v{i + 1}", f"    date: 2024-{index % 12 + 1:02d}-{i * 7 + 3:02d}",
                  f"    change: {_text(rng, 'a change')!r}", "    why: To meet the palette.",
                  "    outcome: Closer to the target.", "    tools: [Synthetic Diffusion 1.0]"]
        if i < len(raws):
            lines.append(f"    assets: [{raws[i]}]")
    lines += ["failures:", "  - what_broke: Colours drifted magenta",
              "    symptom: Delta E 8.7 on the orange patch",
              "    fix: Removed colour words from the prompt", "    iteration: v2",
              "model_card:", "  models:", "    - name: Synthetic Diffusion 1.0",
              "      licence: Apache-2.0", "      commercial_use: true",
              "  intended_use: Campaign imagery", "assets:"]
    for asset in plan:
        lines += [f"  - path: {asset.path}", f"    role: {asset.role}",
                  f"    caption: {asset.role} {asset.path.rsplit('/', 1)[-1]}",
                  f"    alt: A synthetic {asset.role} image"]
        if asset.role == "raw" or asset.derived_from is None:
            lines += ["    source_type: trainedAlgorithmicMedia",
                      "    models: [Synthetic Diffusion 1.0]"]
        if asset.derived_from:
            lines += ["    source_type: compositeWithTrainedAlgorithmicMedia",
                      f"    derived_from: [{asset.derived_from}]"]
    lines += ["workflow:", "  - tool: Synthetic Diffusion 1.0", "    stage: generation",
              "    purpose: Raw generations"]
    return "\n".join(lines) + "\n"


def _generate(params: Params, root: Path) -> None:
    from evidencechain.testca import build_test_ca

    bases_dir = root.with_name(root.name + "-bases")
    bases_dir.mkdir(parents=True, exist_ok=True)
    try:
        _bases(params, bases_dir)
        ca = root / CA_FILE
        ca.parent.mkdir(parents=True, exist_ok=True)
        ca.write_bytes(build_test_ca().ca_pem)
        (root / "evidencechain.yml").write_text(
            "schema_version: 1\ncandidate:\n  name: Synthetic Candidate\n"
            "  headline: I make synthetic evidence for benchmarks\n"
            f"provenance:\n  trust_anchors: [{CA_FILE}]\n", encoding="utf-8")
        jobs = [(params, i, root, bases_dir, ca) for i in range(params.projects)]
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(_make_project, jobs, chunksize=4))
        _commit_manifests(root)
    finally:
        shutil.rmtree(bases_dir, ignore_errors=True)


def _commit_manifests(root: Path) -> None:
    """A git repository holding the manifests (not the assets), so history is read."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "Synthetic Candidate",
           "GIT_AUTHOR_EMAIL": "candidate@example.com", "GIT_COMMITTER_NAME": "bench",
           "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_AUTHOR_DATE": "2024-06-01T12:00:00Z", "GIT_COMMITTER_DATE": "2024-06-01T12:00:00Z"}

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    (root / ".gitignore").write_text("assets/\n.evidencechain-cache/\n/site/\n")
    git("add", "evidencechain.yml", ".gitignore", CA_FILE, "projects")
    git("commit", "-q", "-m", "Synthetic evidence")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--assets", type=int, default=10)
    parser.add_argument("--max-megapixels", type=float, default=12.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(ensure_workspace(Params(args.projects, args.assets, args.max_megapixels, args.seed)))


if __name__ == "__main__":
    main()
