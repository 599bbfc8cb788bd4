"""heartzoo: ECG heartbeat classification models for microcontrollers, evaluated inter-patient."""

__version__ = "0.1.0"
