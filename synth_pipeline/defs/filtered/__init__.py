"""The filtered phase."""
