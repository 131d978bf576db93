"""Custom Rasa 3 graph components for Finnish NLU."""
