"""The prelabeled phase."""
