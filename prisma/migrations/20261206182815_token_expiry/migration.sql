-- API tokens get a life cycle (PRODUCT.md "token list|revoke", `--expires-in`): an optional
-- expiry after which the token answers 401. Revocation (revoked_at) and last use
-- (last_used_at) already have their columns; existing tokens keep no expiry.
ALTER TABLE "api_tokens" ADD COLUMN "expires_at" TIMESTAMP(3);
