"""What the dashboard, the data wizard and the inspect views share: image grids (``images``), the data preview
(``preview``), the parts of a live plot (``plot_parts``) and a one-job-at-a-time thread (``background``). A floor
below all three (docs/CONTRACTS.md, "Floors")."""
