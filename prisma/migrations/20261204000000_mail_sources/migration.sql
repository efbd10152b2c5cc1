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
CREATE TRIGGER "mailboxes_changed"
  AFTER INSERT OR DELETE OR UPDATE OF "enabled", "source", "host", "port", "tls", "username", "auth", "secret_encrypted",
    "oauth_token_url", "oauth_client_id", "oauth_client_secret_encrypted", "oauth_scope", "folder", "post_action",
    "post_action_folder", "poll_seconds", "since", "address", "aliases"
  ON "mailboxes" FOR EACH ROW EXECUTE FUNCTION "mailroom_mailbox_changed"();
