"""The side panels: palette, inspector, problems, code view, example gallery."""
