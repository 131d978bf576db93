"""Custom actions of the Lumo assistant, served by the rasa-sdk action server (actions/server.py)."""
