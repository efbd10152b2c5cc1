-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');

-- CreateEnum
CREATE TYPE "ConversationType" AS ENUM ('UNKNOWN', 'REPLY_INBOUND', 'NOTE_PRIVATE', 'NOTE_PUBLIC', 'FORWARD', 'REPLY_OUTBOUND', 'SUGGESTED_REPLY');

-- CreateEnum
CREATE TYPE "EmailAddressDirection" AS ENUM ('UNKNOWN', 'FROM', 'TO', 'CC', 'BCC', 'FORWARDED_TO', 'RESENT_FROM', 'REPLY_TO');

-- CreateEnum
CREATE TYPE "AttachmentStatus" AS ENUM ('UNKNOWN', 'UNAVAILABLE', 'OK', 'WARNING', 'ERROR');

-- CreateEnum
CREATE TYPE "MailboxTls" AS ENUM ('tls', 'starttls', 'none');

-- CreateEnum
CREATE TYPE "MailboxAuth" AS ENUM ('password', 'oauth2');

-- CreateEnum
CREATE TYPE "MailboxPostAction" AS ENUM ('seen', 'move', 'none');

-- CreateEnum
CREATE TYPE "MailboxState" AS ENUM ('connecting', 'syncing', 'idle', 'auth_error', 'connect_error', 'disabled');

-- CreateEnum
CREATE TYPE "IngestOutcome" AS ENUM ('conversation', 'duplicate', 'skipped', 'failed');

-- CreateEnum
CREATE TYPE "Classification" AS ENUM ('human', 'auto_reply', 'bounce', 'own_address');

-- CreateEnum
CREATE TYPE "ThreadReason" AS ENUM ('references', 'signed_message_id', 'subject_tag', 'new_ticket', 'subject_tag_not_participant');

-- CreateTable
CREATE TABLE "tenants" (
    "id" SERIAL NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "reopen_on_reply" BOOLEAN NOT NULL DEFAULT true,
    "ticket_counter" INTEGER NOT NULL DEFAULT 0,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_updated" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "tenant_id" INTEGER NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "profile_pic" TEXT,
    "is_system" BOOLEAN NOT NULL DEFAULT false,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_updated" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" SERIAL NOT NULL,
    "tenant_id" INTEGER NOT NULL,
    "user_id" INTEGER NOT NULL,
    "role" "Role" NOT NULL,
    "token_hash" TEXT NOT NULL,
    "token_prefix" TEXT NOT NULL,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMP(3),
    "revoked_at" TIMESTAMP(3),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contacts" (
    "id" SERIAL NOT NULL,
    "tenant_id" INTEGER NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "user_id" INTEGER,
    "profile_pic" TEXT,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_updated" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "contacts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "statuses" (
    "id" SERIAL NOT NULL,
    "tenant_id" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "bg_color" TEXT NOT NULL,
    "text_color" TEXT NOT NULL,
    "is_closed" BOOLEAN NOT NULL DEFAULT false,
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "statuses_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tickets" (
    "id" SERIAL NOT NULL,
    "tenant_id" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "subject" TEXT NOT NULL,
    "status_id" INTEGER NOT NULL,
    "requester_id" INTEGER,
    "mailbox_id" INTEGER,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_updated" TIMESTAMP(3) NOT NULL,
    "last_activity" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tickets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "conversations" (
    "id" SERIAL NOT NULL,
    "tenant_id" INTEGER NOT NULL,
    "ticket_id" INTEGER NOT NULL,
    "type" "ConversationType" NOT NULL,
    "sys_status_id" INTEGER,
    "requester_id" INTEGER,
    "created_by_id" INTEGER NOT NULL,
    "last_updated_by_id" INTEGER NOT NULL,
    "last_message_extracted" TEXT NOT NULL DEFAULT '',
    "html" TEXT NOT NULL DEFAULT '',
    "plain_preview" TEXT NOT NULL DEFAULT '',
    "editorjs" JSONB,
    "read_minutes" INTEGER NOT NULL DEFAULT 0,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_updated" TIMESTAMP(3) NOT NULL,
    "message_id" TEXT,
    "dedupe_key" TEXT,
    "in_reply_to" TEXT,
    "references" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "mailbox_id" INTEGER,
    "imap_uid" BIGINT,
    "imap_uid_validity" BIGINT,

    CONSTRAINT "conversations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "conversation_email_addresses" (
    "id" SERIAL NOT NULL,
    "conversation_id" INTEGER NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "direction" "EmailAddressDirection" NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "conversation_email_addresses_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "attachments" (
    "id" SERIAL NOT NULL,
    "tenant_id" INTEGER NOT NULL,
    "conversation_id" INTEGER,
    "filename" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "detected_type" TEXT,
    "size_bytes" BIGINT NOT NULL,
    "sha256" TEXT NOT NULL,
    "content_id" TEXT,
    "inline" BOOLEAN NOT NULL DEFAULT false,
    "storage_key" TEXT NOT NULL,
    "status" "AttachmentStatus" NOT NULL DEFAULT 'UNAVAILABLE',
    "status_message" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_updated" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "attachments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mailboxes" (
    "id" SERIAL NOT NULL,
    "tenant_id" INTEGER NOT NULL,
    "address" TEXT NOT NULL,
    "aliases" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "tls" "MailboxTls" NOT NULL DEFAULT 'tls',
    "username" TEXT NOT NULL,
    "auth" "MailboxAuth" NOT NULL DEFAULT 'password',
    "secret_encrypted" TEXT NOT NULL,
    "oauth_token_url" TEXT,
    "oauth_client_id" TEXT,
    "folder" TEXT NOT NULL DEFAULT 'INBOX',
    "post_action" "MailboxPostAction" NOT NULL DEFAULT 'none',
    "post_action_folder" TEXT,
    "poll_seconds" INTEGER NOT NULL DEFAULT 60,
    "since" TIMESTAMP(3),
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "uid_validity" BIGINT,
    "last_uid" BIGINT,
    "highest_modseq" BIGINT,
    "state" "MailboxState" NOT NULL DEFAULT 'connecting',
    "last_success_at" TIMESTAMP(3),
    "last_error" TEXT,
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_updated" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mailboxes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ingest_records" (
    "id" SERIAL NOT NULL,
    "tenant_id" INTEGER NOT NULL,
    "mailbox_id" INTEGER NOT NULL,
    "uid_validity" BIGINT NOT NULL,
    "uid" BIGINT NOT NULL,
    "message_id" TEXT,
    "from" TEXT,
    "subject" TEXT,
    "received_at" TIMESTAMP(3),
    "size_bytes" INTEGER NOT NULL DEFAULT 0,
    "raw_storage_key" TEXT NOT NULL,
    "raw_sha256" TEXT NOT NULL,
    "outcome" "IngestOutcome" NOT NULL,
    "classification" "Classification",
    "thread_reason" "ThreadReason",
    "conversation_id" INTEGER,
    "ticket_id" INTEGER,
    "duplicate_of_id" INTEGER,
    "warnings" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "error_code" TEXT,
    "error_message" TEXT,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_updated" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ingest_records_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tenants_slug_key" ON "tenants"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "users_tenant_id_email_key" ON "users"("tenant_id", "email");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "api_tokens_tenant_id_idx" ON "api_tokens"("tenant_id");

-- CreateIndex
CREATE UNIQUE INDEX "contacts_tenant_id_email_key" ON "contacts"("tenant_id", "email");

-- CreateIndex
CREATE UNIQUE INDEX "statuses_tenant_id_key_key" ON "statuses"("tenant_id", "key");

-- CreateIndex
CREATE INDEX "tickets_tenant_id_last_activity_idx" ON "tickets"("tenant_id", "last_activity");

-- CreateIndex
CREATE UNIQUE INDEX "tickets_tenant_id_number_key" ON "tickets"("tenant_id", "number");

-- CreateIndex
CREATE INDEX "conversations_tenant_id_message_id_idx" ON "conversations"("tenant_id", "message_id");

-- CreateIndex
CREATE INDEX "conversations_ticket_id_created_idx" ON "conversations"("ticket_id", "created");

-- CreateIndex
CREATE UNIQUE INDEX "conversations_tenant_id_dedupe_key_key" ON "conversations"("tenant_id", "dedupe_key");

-- CreateIndex
CREATE INDEX "conversation_email_addresses_email_idx" ON "conversation_email_addresses"("email");

-- CreateIndex
CREATE UNIQUE INDEX "conversation_email_addresses_conversation_id_direction_emai_key" ON "conversation_email_addresses"("conversation_id", "direction", "email");

-- CreateIndex
CREATE INDEX "attachments_conversation_id_idx" ON "attachments"("conversation_id");

-- CreateIndex
CREATE INDEX "attachments_status_last_updated_idx" ON "attachments"("status", "last_updated");

-- CreateIndex
CREATE UNIQUE INDEX "mailboxes_tenant_id_address_key" ON "mailboxes"("tenant_id", "address");

-- CreateIndex
CREATE INDEX "ingest_records_tenant_id_raw_sha256_idx" ON "ingest_records"("tenant_id", "raw_sha256");

-- CreateIndex
CREATE INDEX "ingest_records_mailbox_id_outcome_created_idx" ON "ingest_records"("mailbox_id", "outcome", "created");

-- CreateIndex
CREATE UNIQUE INDEX "ingest_records_mailbox_id_uid_validity_uid_key" ON "ingest_records"("mailbox_id", "uid_validity", "uid");

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "statuses" ADD CONSTRAINT "statuses_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_status_id_fkey" FOREIGN KEY ("status_id") REFERENCES "statuses"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_requester_id_fkey" FOREIGN KEY ("requester_id") REFERENCES "contacts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_mailbox_id_fkey" FOREIGN KEY ("mailbox_id") REFERENCES "mailboxes"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_ticket_id_fkey" FOREIGN KEY ("ticket_id") REFERENCES "tickets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_sys_status_id_fkey" FOREIGN KEY ("sys_status_id") REFERENCES "statuses"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_requester_id_fkey" FOREIGN KEY ("requester_id") REFERENCES "contacts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_last_updated_by_id_fkey" FOREIGN KEY ("last_updated_by_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_mailbox_id_fkey" FOREIGN KEY ("mailbox_id") REFERENCES "mailboxes"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversation_email_addresses" ADD CONSTRAINT "conversation_email_addresses_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attachments" ADD CONSTRAINT "attachments_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attachments" ADD CONSTRAINT "attachments_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mailboxes" ADD CONSTRAINT "mailboxes_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ingest_records" ADD CONSTRAINT "ingest_records_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ingest_records" ADD CONSTRAINT "ingest_records_mailbox_id_fkey" FOREIGN KEY ("mailbox_id") REFERENCES "mailboxes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ingest_records" ADD CONSTRAINT "ingest_records_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ingest_records" ADD CONSTRAINT "ingest_records_ticket_id_fkey" FOREIGN KEY ("ticket_id") REFERENCES "tickets"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ingest_records" ADD CONSTRAINT "ingest_records_duplicate_of_id_fkey" FOREIGN KEY ("duplicate_of_id") REFERENCES "ingest_records"("id") ON DELETE SET NULL ON UPDATE CASCADE;

