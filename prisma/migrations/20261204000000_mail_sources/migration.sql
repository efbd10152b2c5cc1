-- Mail arrives through a source (IMAP today). Ingest keys become protocol-free:
-- an ingest record is identified by (mailbox_id, source_key), the mailbox keeps one
-- opaque cursor the source owns, and a conversation remembers the source item it
-- came from. Existing IMAP rows move over unchanged in meaning:
--   source_key = 'uidvalidity:uid', cursor = 'uidvalidity:lastuid[:highestmodseq]'.

-- Ingest records: (mailbox_id, uid_validity, uid) -> (mailbox_id, source_key).
ALTER TABLE "ingest_records" ADD COLUMN "source_key" TEXT;
UPDATE "ingest_records" SET "source_key" = "uid_validity"::text || ':' || "uid"::text;
ALTER TABLE "ingest_records" ALTER COLUMN "source_key" SET NOT NULL;
DROP INDEX "ingest_records_mailbox_id_uid_validity_uid_key";
CREATE UNIQUE INDEX "ingest_records_mailbox_id_source_key_key" ON "ingest_records"("mailbox_id", "source_key");
ALTER TABLE "ingest_records" DROP COLUMN "uid_validity", DROP COLUMN "uid";

-- The header-only case was recognised by a warning sentence; now it is a flag.
ALTER TABLE "ingest_records" ADD COLUMN "header_only" BOOLEAN NOT NULL DEFAULT false;
UPDATE "ingest_records" SET "header_only" = true
  WHERE 'raw message not downloaded (over the size limit): only its header is stored' = ANY ("warnings");

-- Mailboxes: the source kind and its opaque cursor.
ALTER TABLE "mailboxes" ADD COLUMN "source" TEXT NOT NULL DEFAULT 'imap';
ALTER TABLE "mailboxes" ADD COLUMN "cursor" TEXT;
UPDATE "mailboxes" SET "cursor" = "uid_validity"::text || ':' || COALESCE("last_uid", 0)::text
    || CASE WHEN "highest_modseq" IS NULL THEN '' ELSE ':' || "highest_modseq"::text END
  WHERE "uid_validity" IS NOT NULL;
ALTER TABLE "mailboxes" DROP COLUMN "uid_validity", DROP COLUMN "last_uid", DROP COLUMN "highest_modseq";

-- Conversations: where the mail came from, as a source key.
ALTER TABLE "conversations" ADD COLUMN "source_key" TEXT;
UPDATE "conversations" SET "source_key" = "imap_uid_validity"::text || ':' || "imap_uid"::text
  WHERE "imap_uid" IS NOT NULL AND "imap_uid_validity" IS NOT NULL;
ALTER TABLE "conversations" DROP COLUMN "imap_uid", DROP COLUMN "imap_uid_validity";

-- Workers learn at once when an admin disables, removes, re-enables or re-points a
-- mailbox (LISTEN mailroom_mailbox_changed), so a running sync or IDLE watch stops or
-- restarts within moments instead of at its next poll. Health and cursor updates are
-- not in the column list, so the sync's own writes notify nobody.
CREATE FUNCTION "mailroom_mailbox_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mailroom_mailbox_changed', (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER "mailboxes_added_or_removed"
  AFTER INSERT OR DELETE ON "mailboxes" FOR EACH ROW EXECUTE FUNCTION "mailroom_mailbox_changed"();
-- Only a real change of a setting: an UPDATE that writes the same value (or only health) notifies nobody.
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
    OLD."oauth_scope" IS DISTINCT FROM NEW."oauth_scope" OR OLD."folder" IS DISTINCT FROM NEW."folder" OR
    OLD."post_action" IS DISTINCT FROM NEW."post_action" OR
    OLD."post_action_folder" IS DISTINCT FROM NEW."post_action_folder" OR
    OLD."poll_seconds" IS DISTINCT FROM NEW."poll_seconds" OR OLD."since" IS DISTINCT FROM NEW."since" OR
    OLD."address" IS DISTINCT FROM NEW."address" OR OLD."aliases" IS DISTINCT FROM NEW."aliases"
  )
  EXECUTE FUNCTION "mailroom_mailbox_changed"();
