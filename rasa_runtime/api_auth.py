"""Who may call Rasa's HTTP API: a JWT in the Authorization header, nothing else.

- Rasa's `--auth-token` (`-t`) accepts a shared token as `?token=` in URLs, which end up in access
  logs, proxies and browser history. Our server refuses to start with it.
- sanic-jwt, which checks the JWTs, turns only some of PyJWT's refusals into 401: a token whose
  algorithm is not ours (e.g. `alg: none`) or that lacks a required claim escapes as an exception,
  Rasa answers 500 and logs a traceback. It is refused either way; here it is refused as 401.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    """Refuses `--auth-token` at start and answers every invalid JWT with 401."""
    import jwt
    import rasa.server
    from sanic_jwt.authentication import Authentication

    create_app = rasa.server.create_app

    def create_app_without_url_tokens(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("auth_token"):
            raise SystemExit("--auth-token is refused: the API takes JWTs in the Authorization header only")
        return create_app(*args, **kwargs)

    rasa.server.create_app = create_app_without_url_tokens

    decode = Authentication._decode
    # What sanic-jwt's _verify already answers with 401 (or 400 in debug mode).
    handled = (jwt.exceptions.DecodeError, jwt.exceptions.ExpiredSignatureError, jwt.exceptions.InvalidIssuerError,
               jwt.exceptions.ImmatureSignatureError, jwt.exceptions.InvalidIssuedAtError,
               jwt.exceptions.InvalidAudienceError)

    async def decode_refusing_any_invalid_token(self: Authentication, token: str, verify: bool = True,
                                                inline_claims: Any = None) -> Any:
        try:
            return await decode(self, token, verify=verify, inline_claims=inline_claims)
        except handled:
            raise
        except jwt.exceptions.InvalidTokenError as error:
            raise jwt.exceptions.DecodeError(f"Invalid token: {type(error).__name__}") from error

    Authentication._decode = decode_refusing_any_invalid_token  # type: ignore[method-assign]
