"""How our Rasa server runs: batched NLU and model loads off the event loop, bounded action calls,
API JWTs in the header only (scripts/rasa_server.py)."""
