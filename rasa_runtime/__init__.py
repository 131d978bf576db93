"""How our Rasa server runs: batched NLU and model loads off the event loop, bounded action calls,
API JWTs in the header only, and `DELETE /conversations/<id>/tracker`, which really deletes a
conversation from the tracker store for erasure and retention (erasure.py; installed by
scripts/rasa_server.py)."""
