"""Functions shared word for word by the app and the exported training script.

``core.code.script`` copies their source into the script it writes, and the trainer
calls them directly, so data loading, splitting, normalisation, augmentation and
evaluation cannot drift apart. They depend on numpy, torch and Pillow only.
"""
