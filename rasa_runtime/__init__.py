"""How our Rasa server runs: batched NLU and model loads off the event loop, bounded action calls,
API JWTs in the header only, and `DELETE /conversations/<id>/tracker`, which really deletes a
conversation from the tracker store for erasure and retention (erasure.py). The entry point is
`python -m rasa_runtime [rasa run arguments]` (__main__.py), which installs all of it."""

# The Rasa release whose internals the modules of this package patch (and were tested against).
# The entry point refuses any other: a patch applied to code it was not written for would fail
# silently or half-way. Change it only together with requirements.txt, after re-reading every patch.
RASA_VERSION = "3.6.21"
