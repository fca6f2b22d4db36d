"""Bringing the user's own data in: what Data > Open… takes (``sources``), the data wizard that shows what was
found before anything trains (``wizard``, on ``core.datasets.survey``), and the augmentation settings with their
preview (``augment``)."""
