-- Reconnect backoff: a failing mailbox is not contacted again before next_attempt_at.
ALTER TABLE "mailboxes" ADD COLUMN "next_attempt_at" TIMESTAMP(3);
