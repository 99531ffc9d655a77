"""The generated phase."""
