"""How our Rasa server runs: batched NLU and model loads off the event loop (scripts/rasa_server.py)."""
