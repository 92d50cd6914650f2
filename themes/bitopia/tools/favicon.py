"""Regenerate static/favicon.ico from the shapes of static/favicon.svg (a "b" on the accent colour).

    python themes/bitopia/tools/favicon.py

Browsers ask for /favicon.ico whether a page links it or not: the theme ships one so that no
page logs a 404 for it. Needs Pillow.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "favicon.ico"
ACCENT, WHITE = (0x1A, 0x5A, 0x87, 255), (255, 255, 255, 255)
SCALE = 8  # drawn large, then reduced: smooth edges


def icon(size: int = 32) -> Image.Image:
    """The icon at 32 px, drawn on the SVG's 32-unit grid."""
    big = 32 * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    s = lambda *units: [u * SCALE for u in units]  # noqa: E731
    draw.rounded_rectangle(s(0, 0, 32, 32), radius=7 * SCALE, fill=ACCENT)
    draw.rectangle(s(9, 5, 13, 19.5), fill=WHITE)
    draw.ellipse(s(10, 12.5, 24, 26.5), fill=WHITE)
    draw.ellipse(s(12.5, 15, 21.5, 24), fill=ACCENT)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    icon(32).save(OUT, sizes=[(16, 16), (32, 32)])
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
