"""The canvas: scene, node and wire items, view, interaction modes, undo commands and the editor API, tabs."""
