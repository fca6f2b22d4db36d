"""The files TorchCanvas ships (examples, icons, styles), installed as the package ``torchcanvas_resources``.

Look them up through ``core.resources``, never by a path relative to a source file.
"""
