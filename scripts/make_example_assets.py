"""Draw the image assets of the example workspace in `example_site/`, deterministically.

Run from the repository root:

    python scripts/make_example_assets.py

Every image is drawn with Pillow from fixed seeds and fixed numbers (no clock, no system
randomness), so re-running the script rewrites byte-identical files on the same Pillow build.
The pictures are abstract stand-ins for what the manifests describe: "raw generations" carry
the artefacts the failure logs talk about (colour casts, noise, garbled label text, a smeared
hand), finals are the same composition cleaned, graded and sharpened, and the charts are
drawn from the numbers quoted in the manifests.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = ROOT / "example_site" / "projects"

RGB = tuple[int, int, int]
Point = tuple[float, float]

# Halden Roasters autumn palette (brand-campaign-visuals).
ROAST: RGB = (74, 44, 42)
EMBER: RGB = (217, 121, 43)
OAT: RGB = (239, 227, 208)
MOSS: RGB = (91, 107, 58)
WHITE: RGB = (255, 255, 255)
INK: RGB = (33, 37, 41)
GRID: RGB = (222, 226, 230)


def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font, so no system font is needed."""
    return ImageFont.load_default(size=max(6, int(size)))  # type: ignore[return-value]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear blend of two colours; t=0 gives a, t=1 gives b."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def save_jpeg(image: Image.Image, path: Path, quality: int = 85) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.convert("RGB").save(path, "JPEG", quality=quality, optimize=True, subsampling=2)


def save_png(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG", optimize=True)


# ---------------------------------------------------------------------------------------
# Image effects, all deterministic
# ---------------------------------------------------------------------------------------

def vertical_gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    w, h = size
    column = Image.new("RGB", (1, h))
    column.putdata([mix(top, bottom, y / max(1, h - 1)) for y in range(h)])
    return column.resize((w, h), Image.Resampling.NEAREST)


def channel_lut(image: Image.Image, curves: Sequence[Callable[[float], float]]) -> Image.Image:
    """Apply one tone curve per channel; each maps 0..1 to 0..1."""
    table: list[int] = []
    for curve in curves:
        table += [max(0, min(255, round(255 * curve(v / 255)))) for v in range(256)]
    return image.point(table)


def teal_cast(image: Image.Image, s: float) -> Image.Image:
    """Cool, teal shadows: the SDXL base look the brief's palette rules out."""
    return channel_lut(image, (
        lambda v: v - s * 0.16 * (1 - v) ** 1.5,
        lambda v: v + s * 0.03 * (1 - v),
        lambda v: v + s * 0.13 * (1 - v) ** 1.2,
    ))


def magenta_cast(image: Image.Image, s: float) -> Image.Image:
    """Oranges pushed towards red-magenta in the mid-tones (FLUX drift in v3)."""
    return channel_lut(image, (
        lambda v: v + s * 0.06 * math.sin(math.pi * v),
        lambda v: v - s * 0.10 * math.sin(math.pi * v),
        lambda v: v + s * 0.07 * math.sin(math.pi * v),
    ))


def warm_grade(image: Image.Image) -> Image.Image:
    """The delivery grade: gentle S-curve, warm mids, lifted shadows for the press."""
    def s_curve(v: float) -> float:
        k = 2.2
        return 0.5 + 0.5 * math.tanh(k * (v - 0.5)) / math.tanh(k * 0.5)

    def lift(v: float) -> float:
        return 0.035 + 0.965 * v

    return channel_lut(image, (
        lambda v: lift(s_curve(v)) + 0.015 * math.sin(math.pi * v),
        lambda v: lift(s_curve(v)),
        lambda v: lift(s_curve(v)) - 0.02 * math.sin(math.pi * v),
    ))


def noise(image: Image.Image, rng: random.Random, amount: int, chroma: bool = True) -> Image.Image:
    """Add seeded noise of +-amount levels (never Pillow's unseeded effect_noise)."""
    w, h = image.size

    def plane() -> Image.Image:
        raw = Image.frombytes("L", (w, h), rng.randbytes(w * h))
        return raw.point(lambda v: v * 2 * amount // 255)

    if chroma:
        layer = Image.merge("RGB", (plane(), plane(), plane()))
    else:
        mono = plane()
        layer = Image.merge("RGB", (mono, mono, mono))
    return ImageChops.add(image.convert("RGB"), layer, scale=1.0, offset=-amount)


def vignette(image: Image.Image, strength: float) -> Image.Image:
    w, h = image.size
    radial = Image.radial_gradient("L").resize((w, h), Image.Resampling.BICUBIC)
    mask = radial.point(lambda v: round(255 * strength * max(0.0, (v - 90) / 165) ** 1.6))
    return Image.composite(Image.new("RGB", (w, h), (20, 12, 8)), image, mask)


def paste_layer(base: Image.Image, colour: RGB, mask: Image.Image) -> Image.Image:
    return Image.composite(Image.new("RGB", base.size, colour), base, mask)


def ellipse_poly(cx: float, cy: float, rx: float, ry: float, angle: float = 0.0,
                 n: int = 32) -> list[Point]:
    ca, sa = math.cos(angle), math.sin(angle)
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x, y = rx * math.cos(t), ry * math.sin(t)
        pts.append((cx + x * ca - y * sa, cy + x * sa + y * ca))
    return pts


def leaf_poly(cx: float, cy: float, r: float, angle: float) -> list[Point]:
    """A five-lobed maple leaf with pointed tips; `angle` points the top lobe."""
    pts = []
    n = 90
    for i in range(n):
        t = 2 * math.pi * i / n
        rel = t - math.pi / 2  # 0 at the top lobe (before rotation)
        lobes = 0.5 + 0.5 * (1 - abs(math.sin(2.5 * rel))) ** 0.9
        teeth = 1 + 0.05 * math.cos(15 * rel)
        size = 0.82 + 0.18 * math.cos(rel)  # top lobe longest, lower lobes shorter
        if abs(math.sin(rel / 2)) > 0.97:  # the notch where the stem joins
            size *= 0.55
        rr = r * lobes * teeth * size
        pts.append((cx + rr * math.cos(t + angle), cy - rr * math.sin(t + angle)))
    return pts


# ---------------------------------------------------------------------------------------
# Project 1: Halden Roasters autumn key visual
# ---------------------------------------------------------------------------------------

LABEL_TEXT = ("HALDEN", "ROASTERS", "HARVEST BLEND", "250 g  -  whole bean")


@dataclass(frozen=True)
class Scene:
    """One render of the key-visual composition."""

    cup_x: float = 0.30          # cup centre, share of width
    bag_x: float = 0.64          # bag centre, share of width
    leaf_seed: int = 7           # scatter of leaves and beans
    bag: str = "packshot"        # "garbled" (v1), "blank" (plates) or "packshot" (composited)
    hand: bool = False           # the smeared hand SDXL kept adding in v1
    steam_quality: float = 1.0   # 0 = blotchy, 1 = clean wisps
    detail: float = 1.0          # grain-line density of the table


def draw_bag(canvas: Image.Image, cx: float, bottom: float, height: float, mode: str,
             rng: random.Random) -> list[Point]:
    """Draw the stand-up pouch; return its outline (for shadows and halos)."""
    d = ImageDraw.Draw(canvas)
    wb, wt = 0.56 * height, 0.50 * height
    top = bottom - height
    skew = 0.0
    if mode == "garbled":
        skew = 0.04 * height  # the generated bag leans and its top is uneven
    outline = [
        (cx - wt / 2 + skew, top), (cx + wt / 2 + skew * 0.3, top + 0.02 * height),
        (cx + wb / 2, bottom - 0.05 * height), (cx + wb / 2 - 0.03 * height, bottom),
        (cx - wb / 2 + 0.03 * height, bottom), (cx - wb / 2, bottom - 0.05 * height),
    ]
    body = ROAST if mode != "blank" else mix(ROAST, (120, 86, 60), 0.35)
    d.polygon(outline, fill=body)
    # Side light from the window (left): a soft highlight band inside the bag.
    light = Image.new("L", canvas.size, 0)
    ImageDraw.Draw(light).polygon(
        [(cx - wt / 2 + skew + 0.04 * height, top + 0.06 * height),
         (cx - wt / 2 + skew + 0.13 * height, top + 0.06 * height),
         (cx - wb / 2 + 0.15 * height, bottom - 0.08 * height),
         (cx - wb / 2 + 0.05 * height, bottom - 0.08 * height)], fill=70)
    light = light.filter(ImageFilter.GaussianBlur(0.03 * height))
    canvas.paste(Image.composite(Image.new("RGB", canvas.size, (190, 140, 110)), canvas, light))
    shade = Image.new("L", canvas.size, 0)
    ImageDraw.Draw(shade).polygon(
        [(cx + wt / 2 - 0.06 * height, top + 0.05 * height), (cx + wt / 2, top + 0.05 * height),
         (cx + wb / 2, bottom - 0.05 * height), (cx + wb / 2 - 0.09 * height, bottom)], fill=90)
    shade = shade.filter(ImageFilter.GaussianBlur(0.03 * height))
    canvas.paste(Image.composite(Image.new("RGB", canvas.size, (30, 16, 14)), canvas, shade))
    d = ImageDraw.Draw(canvas)
    # Crimped seal band along the top.
    band_h = 0.05 * height
    d.polygon([outline[0], outline[1], (outline[1][0], outline[1][1] + band_h),
               (outline[0][0], outline[0][1] + band_h)], fill=mix(body, (20, 10, 8), 0.25))
    steps = 26
    for i in range(1, steps):
        x = outline[0][0] + (outline[1][0] - outline[0][0]) * i / steps
        y0 = outline[0][1] + (outline[1][1] - outline[0][1]) * i / steps
        d.line([(x, y0 + 2), (x, y0 + band_h - 2)], fill=mix(body, (0, 0, 0), 0.45),
               width=max(1, round(height / 400)))
    if mode == "blank":
        return outline
    # The label panel.
    lx0, lx1 = cx - 0.19 * height, cx + 0.19 * height
    ly0, ly1 = top + 0.26 * height, top + 0.66 * height
    d.rectangle([lx0, ly0, lx1, ly1], fill=OAT)
    d.rectangle([lx0 + 0.012 * height, ly0 + 0.012 * height, lx1 - 0.012 * height,
                 ly1 - 0.012 * height], outline=EMBER, width=max(1, round(height / 220)))
    lw = lx1 - lx0
    if mode == "packshot":
        lines = [(LABEL_TEXT[0], 0.135, ROAST), (LABEL_TEXT[1], 0.07, ROAST),
                 (LABEL_TEXT[2], 0.06, EMBER), (LABEL_TEXT[3], 0.04, mix(ROAST, OAT, 0.3))]
        ys = [0.17, 0.36, 0.70, 0.84]
        for (text, size, colour), fy in zip(lines, ys, strict=True):
            f = font(size * height * 0.9)
            tw = d.textlength(text, font=f)
            if tw > lw * 0.86:
                f = font(size * height * 0.9 * lw * 0.86 / tw)
                tw = d.textlength(text, font=f)
            d.text((cx - tw / 2, ly0 + fy * (ly1 - ly0)), text, font=f, fill=colour,
                   stroke_width=1 if size > 0.1 else 0, stroke_fill=colour)
        d.polygon(leaf_poly(cx, ly0 + 0.57 * (ly1 - ly0), 0.035 * height, -0.3), fill=EMBER)
        d.line([(cx, ly0 + 0.57 * (ly1 - ly0)), (cx + 0.02 * height, ly0 + 0.64 * (ly1 - ly0))],
               fill=MOSS, width=max(1, round(height / 250)))
    else:  # "garbled": pseudo-lettering, the classic diffusion failure
        fake = ["HAIDFN", "RAOSTRES", "HRAVST BLEDN", "25O g - whloe baen"]
        sizes = [0.12, 0.07, 0.06, 0.04]
        ys = [0.14, 0.36, 0.68, 0.84]
        layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        ld = ImageDraw.Draw(layer)
        for text, size, fy in zip(fake, sizes, ys, strict=True):
            f = font(size * height * 0.9)
            x = lx0 + 0.06 * lw + rng.uniform(-0.02, 0.04) * lw
            for ch in text:
                jitter_y = rng.uniform(-0.012, 0.012) * height
                colour = mix(ROAST, EMBER, rng.random() * 0.6)
                ld.text((x, ly0 + fy * (ly1 - ly0) + jitter_y), ch, font=f,
                        fill=colour + (rng.randint(150, 255),))
                x += d.textlength(ch, font=f) * rng.uniform(0.75, 1.15)
                if x > lx1 - 0.05 * lw:
                    break
        for _ in range(9):  # stray strokes where letters melt together
            x0 = rng.uniform(lx0, lx1)
            y0 = rng.uniform(ly0, ly1)
            ld.arc([x0, y0, x0 + rng.uniform(8, 30) * height / 500,
                    y0 + rng.uniform(6, 20) * height / 500], rng.uniform(0, 180),
                   rng.uniform(200, 360), fill=ROAST + (200,), width=max(1, round(height / 300)))
        layer = layer.filter(ImageFilter.GaussianBlur(height / 600))
        canvas.paste(layer, (0, 0), layer)
    return outline


def draw_scene(size: tuple[int, int], scene: Scene, ss: int = 1) -> tuple[Image.Image, list]:
    """Render the key-visual composition; return the image and the bag outline."""
    W, H = size[0] * ss, size[1] * ss
    rng = random.Random(scene.leaf_seed)
    horizon = 0.60 * H
    img = vertical_gradient((W, H), (233, 214, 190), (188, 156, 124))
    # Window light from the upper left.
    glow = Image.new("L", (W, H), 0)
    ImageDraw.Draw(glow).ellipse([-0.25 * W, -0.45 * H, 0.55 * W, 0.55 * H], fill=120)
    glow = glow.filter(ImageFilter.GaussianBlur(0.12 * H))
    img = paste_layer(img, (255, 243, 222), glow)
    # The table: warm oak seen at a low angle.
    table = vertical_gradient((W, H - round(horizon)), (160, 104, 64), (92, 55, 36))
    td = ImageDraw.Draw(table)
    th = table.height
    lines = round(70 * scene.detail)
    for i in range(lines):
        t = (i + rng.random() * 0.8) / lines
        y = th * t ** 1.5
        amp = (0.002 + 0.006 * t) * H
        phase = rng.uniform(0, 6.3)
        freq = rng.uniform(2.0, 5.0)
        tone = rng.choice([(70, 40, 26), (120, 74, 45), (178, 120, 76)])
        pts = [(x, y + amp * math.sin(phase + freq * x / W * 6.28)) for x in range(0, W + 8, 8)]
        td.line(pts, fill=mix(tone, (140, 90, 55), 0.45), width=max(1, round((1 + 2 * t) * ss)))
    for k in range(1, 4):  # plank seams
        y = th * (k / 4) ** 1.5
        td.line([(0, y), (W, y)], fill=(58, 34, 22), width=max(1, round(2.5 * ss)))
    img.paste(table, (0, round(horizon)))
    ImageDraw.Draw(img).line([(0, horizon), (W, horizon)], fill=(205, 160, 118), width=2 * ss)

    cup_cx, bag_cx = scene.cup_x * W, scene.bag_x * W
    # Contact shadows, cast to the right (light comes from the left).
    shadow = Image.new("L", (W, H), 0)
    sd = ImageDraw.Draw(shadow)
    sd.ellipse([cup_cx - 0.13 * H, 0.70 * H, cup_cx + 0.19 * H, 0.775 * H], fill=150)
    sd.ellipse([bag_cx - 0.15 * H, 0.685 * H, bag_cx + 0.26 * H, 0.765 * H], fill=170)
    shadow = shadow.filter(ImageFilter.GaussianBlur(0.018 * H))
    img = paste_layer(img, (38, 22, 14), shadow)

    # Leaves and beans scattered on the table.
    d = ImageDraw.Draw(img)
    leaf_colours = [EMBER, (196, 92, 38), (205, 152, 62), MOSS, (150, 58, 36)]
    spots: list[tuple[float, float, float]] = []
    for _ in range(16):
        for _attempt in range(20):
            x = rng.uniform(0.02, 0.98) * W
            y = rng.uniform(0.66, 0.97) * H
            r = (0.04 + 0.06 * (y / H - 0.6)) * H * rng.uniform(0.9, 1.4)
            clear = abs(x - cup_cx) > 0.16 * H and abs(x - bag_cx) > 0.2 * H or y > 0.86 * H
            if clear and all(math.hypot(x - a, y - b) > (r + c) * 0.8 for a, b, c in spots):
                break
        spots.append((x, y, r))
        angle = rng.uniform(0, 6.28)
        colour = rng.choice(leaf_colours)
        d.polygon([(px + 0.01 * H, py + 0.008 * H) for px, py in leaf_poly(x, y, r, angle)],
                  fill=(70, 42, 28))
        d.polygon(leaf_poly(x, y, r, angle), fill=colour)
        vein = mix(colour, (60, 30, 20), 0.45)
        for k in range(5):
            a = angle + k * 2 * math.pi / 5 + math.pi / 10
            d.line([(x, y), (x + 0.6 * r * math.cos(a), y + 0.6 * r * math.sin(a))],
                   fill=vein, width=max(1, ss))
        d.line([(x, y), (x - 1.2 * r * math.cos(angle + 0.3), y - 1.2 * r * math.sin(angle + 0.3))],
               fill=vein, width=max(1, 2 * ss))
    for _ in range(22):
        x = rng.uniform(0.05, 0.95) * W
        y = rng.uniform(0.70, 0.98) * H
        if abs(x - bag_cx) < 0.17 * H and y < 0.75 * H:
            continue
        a = rng.uniform(0, 3.14)
        rx, ry = 0.016 * H, 0.011 * H
        d.polygon(ellipse_poly(x + 2 * ss, y + 2 * ss, rx, ry, a, 20), fill=(40, 22, 14))
        d.polygon(ellipse_poly(x, y, rx, ry, a, 20), fill=(84, 48, 30))
        d.line([(x - 0.8 * rx * math.cos(a), y - 0.8 * rx * math.sin(a)),
                (x + 0.8 * rx * math.cos(a), y + 0.8 * rx * math.sin(a))],
               fill=(38, 20, 12), width=max(1, ss))

    # The cup on its saucer.
    d.ellipse([cup_cx - 0.13 * H, 0.665 * H, cup_cx + 0.13 * H, 0.735 * H], fill=(214, 200, 182))
    d.ellipse([cup_cx - 0.125 * H, 0.66 * H, cup_cx + 0.125 * H, 0.725 * H], fill=(246, 240, 230))
    rim_y, rim_rx, rim_ry = 0.545 * H, 0.085 * H, 0.024 * H
    depth = 0.13 * H  # rim to foot; the sides curve in towards the foot
    left_side = [(cup_cx - rim_rx * (1 - 0.38 * (i / 12) ** 2), rim_y + depth * i / 12)
                 for i in range(13)]
    foot_rx = rim_rx * 0.62
    foot = [(cup_cx - foot_rx * math.cos(math.pi * i / 12),
             rim_y + depth + 0.012 * H * math.sin(math.pi * i / 12)) for i in range(1, 12)]
    right_side = [(2 * cup_cx - x, y) for x, y in reversed(left_side)]
    body = left_side + foot + right_side
    d.arc([cup_cx + 0.06 * H, rim_y + 0.015 * H, cup_cx + 0.13 * H, rim_y + 0.08 * H], -80, 90,
          fill=(226, 214, 198), width=round(0.014 * H))
    d.polygon(body, fill=(242, 234, 222))
    cup_shade = Image.new("L", (W, H), 0)
    ImageDraw.Draw(cup_shade).polygon(
        [(cup_cx + 0.01 * H, rim_y), (cup_cx + rim_rx, rim_y), (cup_cx + rim_rx, rim_y + 0.1 * H),
         (cup_cx + 0.01 * H, rim_y + 0.13 * H)], fill=110)
    cup_mask = Image.new("L", (W, H), 0)
    ImageDraw.Draw(cup_mask).polygon(body, fill=255)
    cup_shade = ImageChops.multiply(cup_shade.filter(ImageFilter.GaussianBlur(0.02 * H)),
                                    cup_mask)
    img = paste_layer(img, (150, 124, 100), cup_shade)
    d = ImageDraw.Draw(img)
    d.ellipse([cup_cx - rim_rx, rim_y - rim_ry, cup_cx + rim_rx, rim_y + rim_ry],
              fill=(250, 246, 238))
    d.ellipse([cup_cx - 0.92 * rim_rx, rim_y - 0.8 * rim_ry, cup_cx + 0.92 * rim_rx,
               rim_y + 0.8 * rim_ry], fill=(176, 116, 66))
    d.ellipse([cup_cx - 0.8 * rim_rx, rim_y - 0.62 * rim_ry, cup_cx + 0.8 * rim_rx,
               rim_y + 0.62 * rim_ry], fill=(92, 52, 30))

    # Steam.
    steam = Image.new("L", (W, H), 0)
    st = ImageDraw.Draw(steam)
    for k in range(3):
        x0 = cup_cx + (k - 1) * 0.03 * H
        pts = []
        for i in range(40):
            t = i / 39
            wobble = math.sin(t * 7 + k * 2.1) * 0.018 * H * (0.4 + t)
            pts.append((x0 + wobble, rim_y - 0.02 * H - t * 0.22 * H))
        st.line(pts, fill=round(90 * scene.steam_quality + 30), width=round(0.012 * H))
    if scene.steam_quality < 0.5:  # blotchy steam: a grey cloud instead of wisps
        st.ellipse([cup_cx - 0.09 * H, rim_y - 0.26 * H, cup_cx + 0.07 * H, rim_y - 0.08 * H],
                   fill=70)
    steam = steam.filter(ImageFilter.GaussianBlur(0.014 * H))
    img = paste_layer(img, (255, 252, 246), steam)

    # The bag.
    bag_outline = draw_bag(img, bag_cx, 0.715 * H, 0.57 * H, scene.bag, rng)

    if scene.hand:  # a smeared hand reaching for the cup from the right
        hand = Image.new("L", (W, H), 0)
        hd = ImageDraw.Draw(hand)
        hx, hy = cup_cx + 0.15 * H, 0.60 * H
        hd.ellipse([hx - 0.02 * H, hy - 0.04 * H, hx + 0.13 * H, hy + 0.07 * H], fill=230)
        for k in range(4):
            fy = hy - 0.035 * H + k * 0.028 * H
            hd.line([(hx + 0.01 * H, fy), (hx - 0.07 * H, fy - 0.01 * H + k * 0.006 * H)],
                    fill=220, width=round(0.022 * H))
        hand = hand.filter(ImageFilter.GaussianBlur(0.012 * H))
        smear = hand.copy()
        for k in range(1, 6):  # motion-smear to the right: the "melted" look
            smear = ImageChops.lighter(smear, ImageChops.offset(hand, round(k * 0.012 * H), 0)
                                       .point(lambda v, k=k: v * (6 - k) // 7))
        img = paste_layer(img, (208, 152, 124), smear)
    if ss > 1:
        img = img.resize(size, Image.Resampling.LANCZOS)
        bag_outline = [(x / ss, y / ss) for x, y in bag_outline]
    return img, bag_outline


HERO = Scene()                     # the layout locked by the depth ControlNet from v2 onwards
V1 = Scene(cup_x=0.66, bag_x=0.30, leaf_seed=918274, bag="garbled", hand=True,
           steam_quality=0.3, detail=0.7)


def v1_contact_sheet(path: Path) -> None:
    tile_w, tile_h, gutter, strip = 304, 208, 8, 22
    cols, rows = 4, 3
    sheet = Image.new("RGB", (cols * tile_w + (cols + 1) * gutter,
                              rows * (tile_h + strip) + (rows + 1) * gutter + 34), (28, 28, 30))
    d = ImageDraw.Draw(sheet)
    d.text((gutter, 9), "v1  SDXL base 1.0  |  text-to-image  |  1216x832, 30 steps, CFG 6.5  |  "
           "12 of 64 generations", font=font(15), fill=(220, 220, 220))
    seeds = [918274, 20931, 55102, 301887, 7719, 640055, 128846, 413009, 86512, 990143,
             272718, 503361]
    for i, seed in enumerate(seeds):
        rng = random.Random(seed)
        cup_x = rng.uniform(0.22, 0.72)
        bag_x = cup_x + (0.33 if cup_x < 0.45 else -0.34)
        scene = V1 if seed == 918274 else Scene(
            cup_x=cup_x, bag_x=bag_x, leaf_seed=seed, bag="garbled",
            hand=seed in (301887, 990143), steam_quality=rng.uniform(0.2, 0.9), detail=0.6)
        tile, _ = draw_scene((tile_w, tile_h), scene)
        tile = teal_cast(tile, rng.uniform(0.7, 1.3))
        tile = noise(tile.filter(ImageFilter.GaussianBlur(0.6)), rng, 10)
        x = gutter + (i % cols) * (tile_w + gutter)
        y = 34 + gutter + (i // cols) * (tile_h + strip + gutter)
        sheet.paste(tile, (x, y))
        flags = []
        if scene.hand:
            flags.append("HAND")
        flags.append("label garbled")
        d.text((x + 2, y + tile_h + 3), f"seed {seed}  -  {', '.join(flags)}", font=font(13),
               fill=(255, 170, 120) if scene.hand else (180, 180, 180))
    save_jpeg(sheet, path, 85)


def palette_card(path: Path) -> None:
    w, h = 1200, 420
    card = Image.new("RGB", (w, h), (250, 247, 242))
    d = ImageDraw.Draw(card)
    d.text((40, 28), "Halden Roasters  -  Autumn campaign palette", font=font(30), fill=ROAST)
    d.text((40, 68), "Brand guide v3.2, p. 12. Tolerance for print: dE2000 <= 5 against the "
           "nearest swatch.", font=font(17), fill=(90, 90, 90))
    swatches = [("Roast Brown", ROAST, "#4A2C2A"), ("Ember Orange", EMBER, "#D9792B"),
                ("Oat", OAT, "#EFE3D0"), ("Moss", MOSS, "#5B6B3A")]
    sw = (w - 80 - 3 * 24) // 4
    for i, (name, colour, hexcode) in enumerate(swatches):
        x = 40 + i * (sw + 24)
        d.rectangle([x, 120, x + sw, 320], fill=colour, outline=(200, 195, 188), width=1)
        d.text((x, 334), name, font=font(20), fill=INK)
        d.text((x, 362), f"{hexcode}   RGB {colour[0]} {colour[1]} {colour[2]}", font=font(15),
               fill=(100, 100, 100))
    save_png(card, path)


def packshot(path: Path) -> None:
    w, h = 800, 1200
    img = vertical_gradient((w, h), (252, 252, 251), (226, 225, 222))
    shadow = Image.new("L", (w, h), 0)
    ImageDraw.Draw(shadow).ellipse([170, 960, 690, 1040], fill=150)
    img = paste_layer(img, (120, 116, 110), shadow.filter(ImageFilter.GaussianBlur(24)))
    big = img.resize((w * 2, h * 2), Image.Resampling.BICUBIC)
    draw_bag(big, w, 2 * 1000, 2 * 780, "packshot", random.Random(1))
    img = big.resize((w, h), Image.Resampling.LANCZOS)
    img = noise(img, random.Random(3), 2, chroma=False)
    save_jpeg(img, path, 88)


def brand_campaign(base: Path) -> None:
    raw = base / "assets" / "raw"
    # v1: SDXL text-to-image. Teal shadows, garbled label, a hand, noise.
    img, _ = draw_scene((1216, 832), V1)
    img = noise(teal_cast(img, 1.0).filter(ImageFilter.GaussianBlur(1.1)), random.Random(11), 14)
    save_jpeg(img, raw / "v1-sdxl-seed-918274.jpg")
    v1_contact_sheet(raw / "v1-sdxl-contact-sheet.jpg")
    # v2: SDXL + depth ControlNet from the Blender blockout. Layout locked, blank pouch
    # left for the packshot, but still cool shadows.
    img, _ = draw_scene((1216, 832), replace(HERO, bag="blank", detail=0.8))
    img = noise(teal_cast(img, 0.6).filter(ImageFilter.GaussianBlur(0.8)), random.Random(22), 11)
    save_jpeg(img, raw / "v2-sdxl-depth-seed-44107.jpg")
    # v3: FLUX.1 [schnell] img2img over the v2 plate. Cleaner, but oranges drift magenta.
    img, _ = draw_scene((1344, 896), replace(HERO, bag="blank"))
    img = noise(magenta_cast(img, 1.0).filter(ImageFilter.GaussianBlur(0.5)), random.Random(33), 7)
    save_jpeg(img, raw / "v3-flux-schnell-seed-602913.jpg")
    # v4: FLUX.1 [schnell] again, colour words removed from the prompt: mild residual drift.
    img, _ = draw_scene((1344, 896), replace(HERO, bag="blank", leaf_seed=7))
    img = noise(magenta_cast(img, 0.3).filter(ImageFilter.GaussianBlur(0.5)), random.Random(44), 6)
    save_jpeg(img, raw / "v4-flux-schnell-seed-771203.jpg")

    # Intermediate: Real-ESRGAN x4 upscale + packshot composite, ungraded, with the halo
    # and waxy wood the failure log describes (reduced copy of the 5376x3584 working file).
    img, outline = draw_scene((1536, 1024), HERO)
    img = magenta_cast(img, 0.3)
    waxy = img.filter(ImageFilter.ModeFilter(5)).filter(ImageFilter.SMOOTH_MORE)
    bag_mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(bag_mask).polygon(outline, fill=255)
    img = Image.composite(img, waxy, bag_mask)
    halo = Image.new("L", img.size, 0)
    ImageDraw.Draw(halo).line(outline + [outline[0]], fill=230, width=4)
    img = paste_layer(img, (252, 248, 240), halo.filter(ImageFilter.GaussianBlur(1.4)))
    save_jpeg(img, base / "assets" / "intermediate" / "v4-upscaled-composite.jpg", 88)

    # Final: same composition, supersampled, graded, retouched, grain, sharpened.
    img, _ = draw_scene((1500, 1000), HERO, ss=2)
    img = vignette(warm_grade(img), 0.55)
    img = noise(img, random.Random(55), 3, chroma=False)
    img = img.filter(ImageFilter.UnsharpMask(radius=2, percent=60, threshold=2))
    save_jpeg(img, base / "assets" / "final" / "halden-harvest-key-visual-web.jpg", 90)

    palette_card(base / "assets" / "reference" / "halden-autumn-palette.png")
    packshot(base / "assets" / "reference" / "halden-packshot-client.jpg")


# ---------------------------------------------------------------------------------------
# Project 2: support-ticket classifier figures
# ---------------------------------------------------------------------------------------

LABELS = ("billing", "delivery", "returns", "account", "technical", "other")

# Rows: true label, columns: predicted label. Held-out test split, n = 2,760.
CM_V1 = (
    (598, 24, 33, 6, 11, 18),
    (21, 722, 45, 2, 9, 29),
    (39, 49, 405, 2, 7, 22),
    (9, 3, 2, 97, 19, 8),
    (14, 10, 5, 12, 352, 21),
    (15, 18, 11, 3, 10, 109),
)
CM_V4 = (
    (626, 14, 22, 7, 9, 12),
    (10, 763, 31, 2, 8, 14),
    (18, 27, 460, 1, 6, 12),
    (4, 1, 1, 120, 8, 4),
    (9, 6, 3, 7, 378, 11),
    (10, 12, 7, 2, 8, 127),
)


def precision_per_class(cm: Sequence[Sequence[int]]) -> list[float]:
    cols = [sum(row[j] for row in cm) for j in range(len(cm))]
    return [cm[j][j] / cols[j] for j in range(len(cm))]


def recall_per_class(cm: Sequence[Sequence[int]]) -> list[float]:
    return [cm[i][i] / sum(cm[i]) for i in range(len(cm))]


def rotated_text(text: str, f: ImageFont.FreeTypeFont, fill: RGB, bg: RGB) -> Image.Image:
    box = f.getbbox(text)
    tile = Image.new("RGB", (box[2] + 4, box[3] + 4), bg)
    ImageDraw.Draw(tile).text((2, 0), text, font=f, fill=fill)
    return tile.rotate(90, expand=True)


def confusion_raw(cm: Sequence[Sequence[int]], path: Path) -> None:
    """What the evaluation script dumps: greyscale counts, index ticks, no styling."""
    n = len(cm)
    cell, left, top = 100, 70, 60
    img = Image.new("RGB", (left + n * cell + 150, top + n * cell + 70), WHITE)
    d = ImageDraw.Draw(img)
    d.text((left, 18), "confusion_matrix(y_test, y_pred)  # counts", font=font(18), fill=INK)
    peak = max(max(r) for r in cm)
    for i, row in enumerate(cm):
        for j, v in enumerate(row):
            g = 255 - round(235 * (v / peak) ** 0.5)
            x, y = left + j * cell, top + i * cell
            d.rectangle([x, y, x + cell, y + cell], fill=(g, g, g))
            d.text((x + cell / 2, y + cell / 2), str(v), font=font(20), anchor="mm",
                   fill=WHITE if g < 128 else INK)
        d.text((left - 12, top + i * cell + cell / 2), str(i), font=font(18), anchor="rm", fill=INK)
        d.text((left + i * cell + cell / 2, top + n * cell + 12), str(i), font=font(18),
               anchor="mt", fill=INK)
    d.rectangle([left, top, left + n * cell, top + n * cell], outline=INK, width=1)
    # Colour bar.
    bx = left + n * cell + 40
    for k in range(n * cell):
        g = 20 + round(235 * (k / (n * cell)))
        d.line([(bx, top + k), (bx + 24, top + k)], fill=(g, g, g))
    d.rectangle([bx, top, bx + 24, top + n * cell], outline=INK)
    d.text((bx + 32, top), str(peak), font=font(15), fill=INK)
    d.text((bx + 32, top + n * cell - 14), "0", font=font(15), fill=INK)
    save_png(img, path)


def confusion_report(cm: Sequence[Sequence[int]], path: Path, title: str, subtitle: str) -> None:
    """The report figure: row-normalised, labelled, precision and recall in the margins."""
    n = len(cm)
    cell, left, top = 118, 190, 130
    w = left + n * cell + 150
    h = top + n * cell + 190
    img = Image.new("RGB", (w, h), WHITE)
    d = ImageDraw.Draw(img)
    d.text((40, 26), title, font=font(30), fill=INK)
    d.text((40, 68), subtitle, font=font(18), fill=(95, 99, 104))
    prec = precision_per_class(cm)
    rec = recall_per_class(cm)
    base, high = (247, 251, 255), (8, 69, 148)
    for i, row in enumerate(cm):
        total = sum(row)
        for j, v in enumerate(row):
            share = v / total
            colour = mix(base, high, share ** 0.6)
            x, y = left + j * cell, top + i * cell
            d.rectangle([x, y, x + cell - 2, y + cell - 2], fill=colour)
            ink = WHITE if share > 0.35 else INK
            d.text((x + cell / 2, y + cell / 2 - 11), f"{share:.0%}", font=font(22),
                   anchor="mm", fill=ink)
            d.text((x + cell / 2, y + cell / 2 + 16), f"{v}", font=font(14), anchor="mm",
                   fill=ink)
        d.text((left - 14, top + i * cell + cell / 2), LABELS[i], font=font(19), anchor="rm",
               fill=INK)
        d.text((left + n * cell + 14, top + i * cell + cell / 2), f"R {rec[i]:.2f}", font=font(17),
               anchor="lm", fill=(95, 99, 104))
    for j in range(n):
        x = left + j * cell + cell / 2
        d.text((x, top + n * cell + 14), LABELS[j], font=font(19), anchor="mt", fill=INK)
        weak = prec[j] < 0.75
        d.text((x, top + n * cell + 48), f"P {prec[j]:.2f}", font=font(19), anchor="mt",
               fill=(201, 42, 42) if weak else (43, 138, 62))
    d.text((left + n * cell / 2, top + n * cell + 92), "Predicted label", font=font(20),
           anchor="mt", fill=INK)
    label = rotated_text("True label", font(20), INK, WHITE)
    img.paste(label, (26, top + n * cell // 2 - label.height // 2))
    macro = sum(prec) / n
    d.text((left, h - 50), f"Macro precision {macro:.2f}   |   macro recall {sum(rec) / n:.2f}"
           f"   |   cells: share of the true label (count below)", font=font(17), fill=INK)
    save_png(img, path)


def latency_samples(seed: int, n: int, p50: float, p95: float) -> list[float]:
    """Log-normal-ish samples rescaled so that their median and p95 hit the reported values."""
    rng = random.Random(seed)
    xs = sorted(rng.lognormvariate(0, 0.35) + 0.08 * rng.random() ** 8 for _ in range(n))
    m, q = xs[n // 2], xs[int(0.95 * n)]
    a = (math.log(p95) - math.log(p50)) / (math.log(q) - math.log(m))
    return [math.exp(math.log(p50) + a * (math.log(x) - math.log(m))) for x in xs]


def percentile(xs: Sequence[float], p: float) -> float:
    s = sorted(xs)
    return s[int(p * len(s))]


FP32 = latency_samples(212, 2000, 131.0, 212.0)
INT8 = latency_samples(118, 2000, 74.0, 118.0)


def histogram(series: Sequence[tuple[str, Sequence[float], RGB]], path: Path, title: str,
              subtitle: str, target: float | None) -> None:
    w, h = 1400, 820
    left, right, top, bottom = 110, 60, 140, 110
    lo, hi, step = 20, 400, 10
    img = Image.new("RGB", (w, h), WHITE)
    d = ImageDraw.Draw(img)
    d.text((40, 26), title, font=font(30), fill=INK)
    d.text((40, 68), subtitle, font=font(18), fill=(95, 99, 104))
    bins = [(b, b + step) for b in range(lo, hi, step)]
    counts = [[sum(1 for v in xs if a <= v < b) for a, b in bins] for _, xs, _ in series]
    ymax = max(max(c) for c in counts)
    ymax = (ymax // 100 + 1) * 100
    pw, ph = w - left - right, h - top - bottom

    def px(v: float) -> float:
        return left + (v - lo) / (hi - lo) * pw

    def py(c: float) -> float:
        return top + ph - c / ymax * ph

    for c in range(0, ymax + 1, 100):
        d.line([(left, py(c)), (left + pw, py(c))], fill=GRID)
        d.text((left - 10, py(c)), str(c), font=font(16), anchor="rm", fill=INK)
    for v in range(lo, hi + 1, 40):
        d.line([(px(v), top + ph), (px(v), top + ph + 6)], fill=INK)
        d.text((px(v), top + ph + 10), str(v), font=font(16), anchor="mt", fill=INK)
    for (_, _, colour), cs in zip(series, counts, strict=True):
        layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
        ld = ImageDraw.Draw(layer)
        for (a, b), c in zip(bins, cs, strict=True):
            if c:
                ld.rectangle([px(a) + 1, py(c), px(b) - 1, py(0)], fill=colour + (150,),
                             outline=colour + (255,))
        img = Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")
    d = ImageDraw.Draw(img)
    d.line([(left, top), (left, top + ph), (left + pw, top + ph)], fill=INK, width=2)
    d.text((left + pw / 2, h - 50), "latency per ticket (ms), batch size 1", font=font(19),
           anchor="mt", fill=INK)
    ylab = rotated_text("requests", font(19), INK, WHITE)
    img.paste(ylab, (30, top + ph // 2 - ylab.height // 2))
    legend_y = top + 70
    d.rectangle([w - right - 610, legend_y - 10, w - right, legend_y + 30 * len(series)],
                fill=WHITE, outline=GRID)
    for name, xs, colour in series:
        p50, p95 = percentile(xs, 0.5), percentile(xs, 0.95)
        x = px(p95)
        for y in range(top, top + ph, 14):  # dotted p95 marker
            d.line([(x, y), (x, y + 7)], fill=colour, width=2)
        d.text((x + 6, top + 4 + 24 * series.index((name, xs, colour))), f"p95 {p95:.0f}",
               font=font(16), fill=colour)
        d.rectangle([w - right - 600, legend_y, w - right - 580, legend_y + 20], fill=colour)
        d.text((w - right - 570, legend_y + 10), f"{name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms",
               font=font(17), anchor="lm", fill=INK)
        legend_y += 30
    if target is not None:
        x = px(target)
        for y in range(top, top + ph, 20):
            d.line([(x, y), (x, y + 12)], fill=(201, 42, 42), width=3)
        d.text((x + 6, top + ph - 30), f"target p95 < {target:.0f} ms", font=font(17),
               fill=(201, 42, 42))
    save_png(img, path)


def ticket_classifier(base: Path) -> None:
    fig = base / "assets" / "figures"
    confusion_report(CM_V1, fig / "v1-confusion-matrix.png",
                     "v1 baseline: TF-IDF + logistic regression",
                     "After stripping agent signatures (label leak). Held-out test split, "
                     "n = 2,760 tickets.")
    confusion_raw(CM_V4, fig / "v4-confusion-matrix-raw.png")
    confusion_report(CM_V4, fig / "v4-confusion-matrix.png",
                     "Delivered: DistilBERT, ONNX INT8, 128 tokens",
                     "Held-out test split, n = 2,760 tickets. Precision below 0.75 in red.")
    histogram([("v2 PyTorch fp32, 256 tokens", FP32, (134, 142, 150))],
              fig / "v2-latency-fp32.png", "v2 latency: DistilBERT fp32 on 2 vCPU",
              "2,000 test tickets replayed one at a time after 50 warm-up requests; "
              "includes tokenisation.", None)
    histogram([("v2 PyTorch fp32, 256 tokens", FP32, (134, 142, 150)),
               ("v4 ONNX Runtime INT8, 128 tokens", INT8, (28, 126, 214))],
              fig / "latency-fp32-vs-int8.png", "p95 latency: fp32 vs INT8 on 2 vCPU",
              "Same 2,000 tickets, same c6i.large-class VM, intra-op threads = 2.", 150)


# ---------------------------------------------------------------------------------------
# Project 3: legible lettering study
# ---------------------------------------------------------------------------------------

FLUX_READS = ("ORCHARD", "ORCHARD", "ORCHAPD", "ORCHARD", "ORCHARDD", "ORCHARD", "ORCAHRD",
              "ORCHARD")
SDXL_READS = ("ORCHAD", "OHCRARD", "ORCRHARD", "0RCHRD", "ORCHARD", "ORCAHD", "ROCHARD",
              "OCHAARD")
SIGN_STYLES = (((40, 48, 44), (236, 236, 226)), ((236, 228, 210), (30, 60, 90)),
               ((190, 150, 105), (40, 30, 25)), ((150, 70, 55), (245, 235, 220)))

# Exact-match rate by word length: (hits, images) per bucket, 8 seeds per word.
BUCKETS = ("3-5 letters\n14 words", "6-8 letters\n16 words", "9-12 letters\n10 words")
FLUX_HITS = ((80, 112), (70, 128), (19, 80))
SDXL_HITS = ((20, 112), (8, 128), (1, 80))


def sign_tile(word: str, size: int, style: int, wobble: float, melt: int,
              rng: random.Random) -> Image.Image:
    bg, fg = SIGN_STYLES[style % len(SIGN_STYLES)]
    tile = vertical_gradient((size, size), mix(bg, WHITE, 0.08), mix(bg, (0, 0, 0), 0.12))
    d = ImageDraw.Draw(tile)
    d.rectangle([10, 10, size - 10, size - 10], outline=mix(fg, bg, 0.4), width=3)
    f = font(size * 0.2)
    total = sum(d.textlength(c, font=f) for c in word) * 1.04
    if total > 0.8 * size:  # fit the word inside the sign's frame, as the prompt asks
        f = font(size * 0.2 * 0.8 * size / total)
        total = sum(d.textlength(c, font=f) for c in word) * 1.04
    x = (size - total) / 2
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ld = ImageDraw.Draw(layer)
    for c in word:
        y = size * 0.42 + rng.uniform(-1, 1) * wobble * size * 0.05
        ld.text((x, y), c, font=f, fill=fg + (255,), stroke_width=2, stroke_fill=fg + (255,),
                anchor="lm")
        x += d.textlength(c, font=f) * (1.04 + rng.uniform(-1, 1) * wobble * 0.12)
    layer = layer.rotate(rng.uniform(-3, 3) * (0.5 + wobble), resample=Image.Resampling.BICUBIC)
    tile.paste(layer, (0, 0), layer)
    for _ in range(melt):  # melted strokes: local smears over the lettering
        cx, cy = rng.uniform(0.2, 0.8) * size, size * rng.uniform(0.36, 0.48)
        box = (round(cx - 24), round(cy - 18), round(cx + 24), round(cy + 18))
        patch = tile.crop(box).filter(ImageFilter.GaussianBlur(4))
        tile.paste(patch, box[:2])
    # Small ornament under the word, as sign generations tend to add.
    d = ImageDraw.Draw(tile)
    d.line([(size * 0.3, size * 0.62), (size * 0.7, size * 0.62)], fill=mix(fg, bg, 0.3),
           width=2)
    d.polygon(leaf_poly(size * 0.5, size * 0.72, size * 0.045, -1.57), fill=mix(fg, bg, 0.2))
    return noise(tile, rng, 9 if melt else 6)


def lettering_grid(model: str, reads: Sequence[str], seed: int, path: Path,
                   wobble: float, melt: int) -> None:
    tile, gutter, strip, header = 300, 10, 30, 44
    cols = 4
    img = Image.new("RGB", (cols * tile + (cols + 1) * gutter,
                            header + 2 * (tile + strip) + 3 * gutter), (24, 24, 27))
    d = ImageDraw.Draw(img)
    d.text((gutter, 13), f'{model}  |  prompt: a hand-painted shop sign that reads "ORCHARD"  |  '
           f'seeds 0-7', font=font(16), fill=(225, 225, 225))
    for i, read in enumerate(reads):
        rng = random.Random(seed * 100 + i)
        # The image shows what the model painted; OCR reads the same string.
        t = sign_tile(read, tile, i, wobble, melt if read != "ORCHARD" else 0, rng)
        x = gutter + (i % cols) * (tile + gutter)
        y = header + gutter + (i // cols) * (tile + strip + gutter)
        img.paste(t, (x, y))
        ok = read == "ORCHARD"
        d.text((x + 2, y + tile + 6), f"seed {i}   OCR: {read}   {'OK' if ok else 'X'}",
               font=font(15), fill=(120, 220, 140) if ok else (255, 140, 120))
    save_jpeg(img, path, 85)


def bars_chart(path: Path) -> None:
    w, h = 1300, 780
    left, top, bottom, right = 110, 150, 140, 60
    img = Image.new("RGB", (w, h), WHITE)
    d = ImageDraw.Draw(img)
    d.text((40, 26), "Exact spelling rate by word length", font=font(30), fill=INK)
    d.text((40, 68), "40 words x 8 seeds per model, 1024x1024. Scored by Tesseract 5 (single line, "
           "dictionaries off) on a centre crop; 94/100 agree with my hand labels.",
           font=font(16), fill=(95, 99, 104))
    pw, ph = w - left - right, h - top - bottom
    for p in range(0, 101, 20):
        y = top + ph - p / 100 * ph
        d.line([(left, y), (left + pw, y)], fill=GRID)
        d.text((left - 10, y), f"{p}%", font=font(16), anchor="rm", fill=INK)
    group = pw / len(BUCKETS)
    series = (("FLUX.1 [schnell]", FLUX_HITS, (28, 126, 214)),
              ("SDXL base 1.0", SDXL_HITS, (230, 119, 0)))
    bw = group * 0.28
    for g, name in enumerate(BUCKETS):
        gx = left + g * group + group / 2
        for s, (_, hits, colour) in enumerate(series):
            k, n = hits[g]
            rate = k / n
            x0 = gx + (s - 1) * bw - 4 + s * 8
            y0 = top + ph - rate * ph
            d.rectangle([x0, y0, x0 + bw, top + ph], fill=colour)
            d.text((x0 + bw / 2, y0 - 8), f"{rate:.0%}", font=font(18), anchor="md", fill=INK)
            d.text((x0 + bw / 2, top + ph + 8), f"{k}/{n}", font=font(14), anchor="mt",
                   fill=(95, 99, 104))
        d.multiline_text((gx, top + ph + 34), name, font=font(18), anchor="ma", align="center",
                         fill=INK)
    d.line([(left, top), (left, top + ph), (left + pw, top + ph)], fill=INK, width=2)
    lx = w - right - 330
    for s, (name, hits, colour) in enumerate(series):
        k = sum(a for a, _ in hits)
        n = sum(b for _, b in hits)
        d.rectangle([lx, top - 40 + s * 28, lx + 18, top - 22 + s * 28], fill=colour)
        d.text((lx + 28, top - 31 + s * 28), f"{name}: {k}/{n} = {k / n:.0%}", font=font(17),
               anchor="lm", fill=INK)
    save_png(img, path)


def poster(path: Path) -> None:
    w, h = 1131, 1600
    img = vertical_gradient((w, h), (246, 241, 232), (236, 228, 214))
    d = ImageDraw.Draw(img)
    margin = 80
    d.text((margin, 90), "CAN OPEN IMAGE MODELS SPELL?", font=font(46), fill=INK)
    d.text((margin, 152), "A specimen from 640 generated shop signs, scored by OCR.",
           font=font(24), fill=(90, 90, 90))
    d.line([(margin, 205), (w - margin, 205)], fill=INK, width=3)
    # Hero word: the best FLUX seed, traced to vector and set clean.
    hero_f = font(190)
    tw = d.textlength("ORCHARD", font=hero_f)
    d.rectangle([margin, 250, w - margin, 640], fill=SIGN_STYLES[0][0])
    d.text(((w - tw) / 2, 445), "ORCHARD", font=hero_f, anchor="lm", fill=(236, 236, 226),
           stroke_width=5, stroke_fill=(236, 236, 226))
    d.polygon(leaf_poly(w / 2, 580, 26, -1.57), fill=EMBER)
    d.text((margin, 660), "FLUX.1 [schnell], seed 0, traced by hand in Inkscape (no letter "
           "changed).", font=font(17), fill=(90, 90, 90))
    words = (("PEAR", 8, (236, 228, 210), (30, 60, 90)),
             ("HARVEST", 5, (190, 150, 105), (40, 30, 25)),
             ("LANTERN", 4, (150, 70, 55), (245, 235, 220)),
             ("GREENHOUSE", 2, (40, 48, 44), (236, 236, 226)))
    cw = (w - 2 * margin - 30) / 2
    for i, (word, hits, bg, fg) in enumerate(words):
        x = margin + (i % 2) * (cw + 30)
        y = 720 + (i // 2) * 250
        d.rectangle([x, y, x + cw, y + 190], fill=bg)
        f = font(78 if len(word) < 9 else 52)
        d.text((x + cw / 2, y + 95), word, font=f, anchor="mm", fill=fg, stroke_width=2,
               stroke_fill=fg)
        d.text((x, y + 200), f"{len(word)} letters  -  FLUX spelled it right in {hits} of 8 seeds",
               font=font(17), fill=(90, 90, 90))
    # Mini chart.
    cy = 1250
    d.text((margin, cy), "Exact spelling rate", font=font(26), fill=INK)
    rows = (("FLUX.1 [schnell]", FLUX_HITS, (28, 126, 214)),
            ("SDXL base 1.0", SDXL_HITS, (230, 119, 0)))
    for r, (name, hits, colour) in enumerate(rows):
        k = sum(a for a, _ in hits)
        n = sum(b for _, b in hits)
        y = cy + 50 + r * 56
        d.text((margin, y + 16), name, font=font(20), anchor="lm", fill=INK)
        bar = (w - 2 * margin - 320) * k / n
        d.rectangle([margin + 240, y, margin + 240 + bar, y + 32], fill=colour)
        d.text((margin + 250 + bar, y + 16), f"{k / n:.0%}  ({k}/{n})", font=font(20),
               anchor="lm", fill=INK)
    d.line([(margin, h - 110), (w - margin, h - 110)], fill=INK, width=1)
    d.text((margin, h - 92), "Maya Okafor  -  October 2024  -  FLUX.1 [schnell] (Apache-2.0), "
           "SDXL 1.0 (CreativeML Open RAIL++-M), Tesseract 5 (Apache-2.0)", font=font(16),
           fill=(90, 90, 90))
    img = noise(img, random.Random(77), 3, chroma=False)
    save_jpeg(img, path, 88)


def lettering_study(base: Path) -> None:
    lettering_grid("FLUX.1 [schnell] fp8, 4 steps", FLUX_READS, 1,
                   base / "assets" / "raw" / "flux-schnell-orchard-seeds-0-7.jpg", 0.35, 1)
    lettering_grid("SDXL base 1.0, 30 steps, CFG 7", SDXL_READS, 2,
                   base / "assets" / "raw" / "sdxl-orchard-seeds-0-7.jpg", 1.0, 3)
    bars_chart(base / "assets" / "intermediate" / "exact-match-by-length.png")
    poster(base / "assets" / "final" / "specimen-poster-a2.jpg")


def main() -> None:
    brand_campaign(PROJECTS / "brand-campaign-visuals")
    ticket_classifier(PROJECTS / "support-ticket-classifier")
    lettering_study(PROJECTS / "legible-lettering-study")
    for path in sorted(PROJECTS.glob("*/assets/**/*")):
        if path.is_file():
            print(f"{path.stat().st_size:>9,}  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
