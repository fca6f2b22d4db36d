"""Widgets the dashboard, the data wizard and the inspect views share: image grids (``images``), the data preview
(``preview``) and the parts of a live plot (``plot_parts``). A floor below all three (docs/CONTRACTS.md, "Floors")."""
