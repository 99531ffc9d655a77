"""Verifiers of domain generations: a sandbox for code, answer checks for math."""
