"""Compression: knowledge distillation, structured channel pruning, magnitude pruning (tfmot)."""
