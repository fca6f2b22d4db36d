"""Pretrained networks: torchvision's classifiers with their ImageNet weights, as a beginner starts a transfer
learning project (Keras' ``applications``, fastai's ``vision_learner``).

``catalog``: the list of classifiers read from torchvision's weights enums (name, accuracy, file size, input
size and preprocessing), never typed in. ``fetch``: the weights through torchvision's own
``Weights.get_state_dict`` into torch's cache (``TORCH_HOME``), with progress and cancel, the cached file checked
against the hash in its name before it is used, and plain words offline. ``project``: a chosen classifier
imported with blocks (``core.fx_import``) as a project that starts from those weights.
"""
