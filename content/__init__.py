"""Content tools for editors: checks of the training data and answers (more to come in issue 4)."""
