"""Quality gates: per-row measurements and their evaluation against the configured thresholds."""
