-- A private certificate authority per mailbox (PEM), for servers whose certificate no public CA signed.
ALTER TABLE "mailboxes" ADD COLUMN "tls_ca_pem" TEXT;

-- The backlog of the sync pass at work, for `mailroom status` (written by the sync, not an admin setting).
ALTER TABLE "mailboxes" ADD COLUMN "backlog" INTEGER,
ADD COLUMN "backlog_done" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "backlog_started_at" TIMESTAMP(3);

-- The change notice also fires when the CA changes (a running watch reconnects with it);
-- the backlog columns stay out of the list, like health and cursor.
DROP TRIGGER "mailboxes_changed" ON "mailboxes";
CREATE TRIGGER "mailboxes_changed"
  AFTER UPDATE ON "mailboxes" FOR EACH ROW
  WHEN (
  OLD."enabled" IS DISTINCT FROM NEW."enabled" OR OLD."source" IS DISTINCT FROM NEW."source" OR
    OLD."host" IS DISTINCT FROM NEW."host" OR OLD."port" IS DISTINCT FROM NEW."port" OR
    OLD."tls" IS DISTINCT FROM NEW."tls" OR OLD."username" IS DISTINCT FROM NEW."username" OR
    OLD."auth" IS DISTINCT FROM NEW."auth" OR
    OLD."secret_encrypted" IS DISTINCT FROM NEW."secret_encrypted" OR
    OLD."oauth_token_url" IS DISTINCT FROM NEW."oauth_token_url" OR
    OLD."oauth_client_id" IS DISTINCT FROM NEW."oauth_client_id" OR
    OLD."oauth_client_secret_encrypted" IS DISTINCT FROM NEW."oauth_client_secret_encrypted" OR
    OLD."oauth_scope" IS DISTINCT FROM NEW."oauth_scope" OR OLD."tls_ca_pem" IS DISTINCT FROM NEW."tls_ca_pem" OR
    OLD."folder" IS DISTINCT FROM NEW."folder" OR
    OLD."post_action" IS DISTINCT FROM NEW."post_action" OR
    OLD."post_action_folder" IS DISTINCT FROM NEW."post_action_folder" OR
    OLD."poll_seconds" IS DISTINCT FROM NEW."poll_seconds" OR OLD."since" IS DISTINCT FROM NEW."since" OR
    OLD."address" IS DISTINCT FROM NEW."address" OR OLD."aliases" IS DISTINCT FROM NEW."aliases"
  )
  EXECUTE FUNCTION "mailroom_mailbox_changed"();
