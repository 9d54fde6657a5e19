"""Draw the integration's brand images (icon, icon@2x, logo) into the brand/ folder.

Original artwork: a plug-shaped bolt on a green rounded square. Run:
scripts/run python scripts/brand.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND = (
    Path(__file__).resolve().parent.parent / "custom_components" / "ev_charging_monitor" / "brand"
)
GREEN = (16, 150, 98, 255)
WHITE = (255, 255, 255, 255)


def icon(size: int) -> Image.Image:
    """A white lightning bolt and plug pins on a green rounded square."""
    scale = 4  # draw large, then shrink: smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=GREEN)

    def p(x: float, y: float) -> tuple[float, float]:
        return (x * big, y * big)

    bolt = [
        p(0.56, 0.14),
        p(0.30, 0.56),
        p(0.48, 0.56),
        p(0.42, 0.86),
        p(0.70, 0.42),
        p(0.52, 0.42),
    ]
    draw.polygon(bolt, fill=WHITE)
    for x in (0.20, 0.74):  # plug pins
        draw.rounded_rectangle((*p(x, 0.18), *p(x + 0.06, 0.34)), radius=big // 60, fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def logo(height: int) -> Image.Image:
    """The icon followed by the name."""
    mark = icon(height)
    font = ImageFont.load_default(size=height * 0.28)
    text = "EV Charging Monitor"
    measure = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = measure.textbbox((0, 0), text, font=font)
    width = int(height + height // 6 + (right - left) + height // 8)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste(mark, (0, 0), mark)
    draw = ImageDraw.Draw(image)
    y = (height - (bottom - top)) // 2 - top
    draw.text((height + height // 6, y), text, font=font, fill=GREEN)
    return image


def main() -> None:
    """Write icon.png (256), icon@2x.png (512) and logo.png (256 high)."""
    BRAND.mkdir(exist_ok=True)
    icon(256).save(BRAND / "icon.png", optimize=True)
    icon(512).save(BRAND / "icon@2x.png", optimize=True)
    logo(256).save(BRAND / "logo.png", optimize=True)


if __name__ == "__main__":
    main()
