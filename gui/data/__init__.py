"""Bringing the user's own data in: what Data > Open… takes and the spec a picked path becomes (``sources``), the
data wizard that shows what was found before anything trains (``wizard``, its tables ``wizard_parts``, the survey
read in a thread ``surveyor``, all on ``core.datasets.survey``), and the augmentation settings with their preview
(``augment``)."""
