"""Custom actions of the Lumo assistant, served by the rasa-sdk action server."""

from actions.privacy import install_log_masking

install_log_masking()
