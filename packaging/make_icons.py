"""Render the application icon's PNG sizes from resources/icons/torchcanvas.svg (run after editing the SVG).

QT_QPA_PLATFORM=offscreen python packaging/make_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256, 512)


def main() -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "torchcanvas.svg"))
    if not renderer.isValid():
        print(f"make_icons: {ICONS / 'torchcanvas.svg'} is not a valid SVG", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(ICONS / f"torchcanvas-{size}.png"))
    del app
    print(f"Wrote {len(SIZES)} PNG sizes to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
