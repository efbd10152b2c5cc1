// `mailroom parse FILE... [--mailbox-address ADDR] [--jsonl]`: the dry run of
// the mail core. Per file one result; a file that cannot be read or parsed is
// a `failed` result and the other files go on. No database or Redis; of the
// configuration only the parser's limits (MAILROOM_MAX_MESSAGE_BYTES,
// MAILROOM_MAX_MIME_PARTS, MAILROOM_MAX_HEADER_BYTES, from the environment or
// the .env file), so a dry run judges a mail as the worker would.

import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { attachmentSummaries, conversationDraft } from '../conversations/draft.js';
import type { AttachmentSummary, ConversationDraft } from '../conversations/draft.js';
import { mapMail } from '../conversations/from-mail.js';
import type { ThreadHints } from '../conversations/from-mail.js';
import { isValidAddress } from '../mail/addresses.js';
import type { Classification } from '../mail/classify.js';
import { DEFAULT_PARSE_LIMITS, parseMail, type ParseLimits } from '../mail/parse.js';
import { loadParseLimits } from '../config/config.js';
import { dotenvPath, parseDotenv } from '../config/dotenv.js';
import { describeError, isMailroomError, type ErrorCode } from '../errors.js';
import { parseCommandArgs, usageError } from './usage.js';
import type { Out } from './io.js';

export interface ParseResult {
  file: string;
  outcome: 'conversation' | 'skipped' | 'failed';
  classification: Classification | null;
  conversation: ConversationDraft | null;
  attachments: AttachmentSummary[];
  thread: ThreadHints | null;
  warnings: string[];
  error: { code: ErrorCode; message: string } | null;
}

export async function parseFile(file: string, opts: { mailboxAddress?: string; limits?: Partial<ParseLimits> } = {}): Promise<ParseResult> {
  const limits = { ...DEFAULT_PARSE_LIMITS, ...opts.limits };
  const failed = (code: ErrorCode, message: string): ParseResult => ({
    file,
    outcome: 'failed',
    classification: null,
    conversation: null,
    attachments: [],
    thread: null,
    warnings: [],
    error: { code, message },
  });

  let raw: Buffer;
  try {
    // Checked before reading: a 5 GB file must not be loaded to learn it is too big.
    const info = await stat(file);
    if (!info.isFile()) return failed('MAIL_UNREADABLE', `${file} is not a regular file`);
    if (info.size > limits.maxRawBytes) {
      return failed('MAIL_LIMIT_EXCEEDED', `The message is ${info.size} bytes, over the limit of ${limits.maxRawBytes}`);
    }
    raw = await readFile(file);
  } catch (err) {
    return failed('FILE_UNREADABLE', `Cannot read ${file}: ${describeError(err)}`);
  }

  try {
    const mail = await parseMail(raw, limits);
    const own = opts.mailboxAddress ? [opts.mailboxAddress] : [];
    const mapped = mapMail(mail, { mailbox: opts.mailboxAddress ? { address: opts.mailboxAddress } : undefined, ownAddresses: own });
    const warnings = [...mapped.warnings];
    let outcome: ParseResult['outcome'] = 'conversation';
    if (mapped.classification === 'own_address') {
      outcome = 'skipped';
      warnings.push('skipped: the mail is from the mailbox itself');
    } else if (mapped.classification === 'auto_reply' || mapped.classification === 'bounce') {
      // Ingestion files these only onto a ticket they thread to; a dry run knows no tickets.
      outcome = 'skipped';
      warnings.push(`skipped unless it threads onto an existing ticket: classified ${mapped.classification} (${mapped.classification_reason})`);
    }
    return {
      file,
      outcome,
      classification: mapped.classification,
      conversation: conversationDraft(mapped),
      attachments: attachmentSummaries(mapped),
      thread: mapped.thread,
      warnings,
      error: null,
    };
  } catch (err) {
    if (isMailroomError(err)) return failed(err.code, err.message);
    return failed('MAIL_UNPARSEABLE', `The message cannot be parsed: ${describeError(err)}`);
  }
}

export async function parseCommand(rest: string[], io: Out): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    rest,
    { 'mailbox-address': { type: 'string' }, jsonl: { type: 'boolean' } },
    { min: 1, max: Number.POSITIVE_INFINITY, names: 'FILE (mailroom parse FILE...)' },
  );
  const mailboxAddress = values['mailbox-address']?.trim().toLowerCase();
  if (mailboxAddress !== undefined && !isValidAddress(mailboxAddress)) {
    throw usageError(`--mailbox-address "${values['mailbox-address']}" is not an email address.`);
  }
  const limits = loadParseLimits(envWithDotenv());
  let unreadable = 0;
  const jsonl = values.jsonl === true;
  if (!jsonl) io.out('[');
  for (const [i, file] of positionals.entries()) {
    const result = await parseFile(file, { mailboxAddress, limits });
    if (result.error?.code === 'FILE_UNREADABLE') unreadable += 1;
    if (jsonl) io.out(JSON.stringify(result));
    else io.out(JSON.stringify(result, null, 2) + (i < positionals.length - 1 ? ',' : ''));
  }
  if (!jsonl) io.out(']');
  if (unreadable > 0) {
    io.err(`mailroom: ${unreadable} of ${positionals.length} file(s) could not be read.`);
    return 1;
  }
  return 0;
}

/** The environment with the .env file's values under it, read only (a dry run generates no secret key). */
function envWithDotenv(): NodeJS.ProcessEnv {
  const file = dotenvPath();
  return { ...(existsSync(file) ? parseDotenv(readFileSync(file, 'utf8')) : {}), ...process.env };
}
