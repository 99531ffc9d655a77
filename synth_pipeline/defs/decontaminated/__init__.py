"""The decontaminated phase."""
