"""ankibuild: YAML flashcards → Anki packages with stable identities."""

__version__ = "0.2.0"
