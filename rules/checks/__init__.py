"""The rule types of the VEE catalogue (REFERENCE §6); importing this registers them all."""

from rules.checks import completeness, electrical, meter, registers, scalar, shape, usage

__all__ = ["completeness", "electrical", "meter", "registers", "scalar", "shape", "usage"]
