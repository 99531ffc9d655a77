"""The seeds phase."""
