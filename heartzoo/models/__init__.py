"""Model registry: `build_model(name, input_shape, num_classes, **params)`; `list_architectures()`."""

from .registry import Architecture, build_model, get_architecture, list_architectures, register
from .summary import count_macs, count_params, describe

# Importing the architecture modules registers them (cheap: they import keras lazily). They import the
# registry, never the other way round.
from . import baselines, efficientnetv2, resnet_compact  # noqa: F401  isort: skip

__all__ = [
    "Architecture",
    "build_model",
    "count_macs",
    "count_params",
    "describe",
    "get_architecture",
    "list_architectures",
    "register",
]
