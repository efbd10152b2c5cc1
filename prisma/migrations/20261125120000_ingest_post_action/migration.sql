-- The post-action runs after the ingest commit; this records that it ran, so a crash in between is caught up.
ALTER TABLE "ingest_records" ADD COLUMN "post_action_at" TIMESTAMP(3);
