"""Exceptions raised by manifoldnet."""


class MeshError(ValueError):
    """Input that manifoldnet cannot process: the message names the offending element and index."""
