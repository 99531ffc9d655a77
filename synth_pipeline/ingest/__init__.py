"""Reading user files (seed instructions, corpora, already-generated rows) into record tables."""
