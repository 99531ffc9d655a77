"""The reviewed phase."""
