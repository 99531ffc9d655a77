"""Human review: the store (items, responses, users, audit chain), agreement metrics and the web app."""
