"""The release phase."""
