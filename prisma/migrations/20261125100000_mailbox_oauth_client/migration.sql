-- OAuth2 mailboxes: the client secret (encrypted) and scope used to refresh the access token.
ALTER TABLE "mailboxes" ADD COLUMN "oauth_client_secret_encrypted" TEXT,
ADD COLUMN "oauth_scope" TEXT;
