"""Model registry: `build_model(name, input_shape, num_classes, **params)`; `list_architectures()`."""

from .registry import Architecture, build_model, get_architecture, list_architectures, register
from .summary import count_macs, count_params, describe

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
