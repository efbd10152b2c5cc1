// What the API accepts as a DTO_ticket_conversation (the seed's request body),
// as zod schemas: the one place that says which fields are writable. Unknown
// and ReadOnly fields (id, created, last_updated, created_by, last_updated_by,
// message_id, a reference's label/colours, an attachment's size/status/URL,
// plain_preview) are stripped, never rejected, so a client can post back what
// it read. Enums accept the value or the name and come out as the value.
// References still have to be resolved against the tenant's rows (service.ts).

import { z } from 'zod';
import { isValidAddress } from '../mail/addresses.js';
import { editorJsProblems } from '../mail/rich/editorjs-input.js';
import { addressDirections, conversationTypes } from '../wire/enums.js';
import type { SeedEnum } from '../wire/enums.js';

export const INT32_MAX = 2_147_483_647;
/** Items in one POST: one transaction, so bounded. */
export const MAX_CONVERSATIONS_PER_REQUEST = 100;

/** A seed enum given as its value or its name; parses to the value. */
export function enumInput<N extends string, V extends number>(seed: SeedEnum<N, V>, options: { exclude?: readonly N[] } = {}) {
  const entries = seed.entries.filter(([name]) => !options.exclude?.includes(name));
  const numbers = entries.map(([, v]) => v) as [V, ...V[]];
  const names = entries.map(([n]) => n) as [N, ...N[]];
  const message = `must be one of ${entries.map(([n, v]) => `${v} (${n})`).join(', ')}`;
  // Names in any case ("note_private" is NOTE_PRIVATE): clients write enums as they please.
  const accepted = (v: string): boolean => {
    const value = seed.number(v);
    return value !== undefined && numbers.includes(value);
  };
  return z
    .union([z.literal(numbers), z.enum(names), z.string().refine(accepted)], { error: message })
    .transform((v) => (typeof v === 'number' ? v : (seed.number(v) as number)));
}

export const positiveInt32 = z.number({ error: 'must be a positive integer' }).int('must be a positive integer').min(1, 'must be a positive integer').max(INT32_MAX, 'is too large');

/** A path or query integer: digits only (no `0x10`, `1e3`, spaces), then range-checked. Documented as an integer. */
export function intParam(min: number, max: number, description: string) {
  const problem = min === 1 ? 'must be a positive integer' : `must be an integer from ${min}`;
  return z
    .string()
    .regex(/^\d{1,10}$/, problem)
    .transform(Number)
    .pipe(z.number().int().min(min, problem).max(max, `must be at most ${max}`))
    // Documented as the integer it is; the digits pattern is how the string form is checked.
    .meta({ type: 'integer', minimum: min, maximum: max, pattern: undefined, description });
}

export const emailInput = z
  .string({ error: 'must be an email address' })
  .trim()
  .toLowerCase()
  .refine((v) => isValidAddress(v), 'is not a valid email address');

const reference = z.object({ id: positiveInt32 });

const emailAddressInput = z.object({
  email: emailInput,
  name: z.string().max(500).nullish(),
  direction: enumInput(addressDirections),
});

/**
 * DTO_contact on input. `user_id` names an existing contact of the tenant (the
 * id the API writes there, see dto.ts); otherwise `email` (+ `name`) names a
 * contact that is created on first use. `profile_pic` is not taken from input.
 */
const requesterInput = z
  .object({
    user_id: positiveInt32.nullish(),
    email: emailInput.nullish(),
    name: z.string().max(500).nullish(),
  })
  .refine((r) => (r.user_id ?? null) !== null || (r.email ?? null) !== null, 'needs user_id or email');

/**
 * Editor.js blocks: shapes here, then the whole document checked by
 * editorJsProblems (ids, allowlisted types, data keys, depth, every URL): a
 * problem is a 400 naming the value's path, never silently dropped. The text
 * inside is cleaned afterwards (sanitizeEditorJs in content.ts).
 */
const editorJsInput = z
  .object({
    time: z.number().int().min(0).max(8.64e15).optional(),
    version: z.string().max(50).optional(),
    blocks: z
      .array(z.object({ id: z.string().max(100).optional(), type: z.string().min(1).max(50), data: z.record(z.string(), z.unknown()) }))
      .max(5000),
  })
  .superRefine((doc, ctx) => {
    for (const problem of editorJsProblems(doc)) ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
  });

const richInput = z.object({
  html: z.string().max(5_000_000).nullish(),
  editorjs: editorJsInput.nullish(),
  read_minutes: z.number().int().min(0).max(100_000).nullish(),
});

export const conversationInput = z.object({
  ticket_id: positiveInt32.nullish(),
  type: enumInput(conversationTypes, { exclude: ['UNKNOWN'] }),
  sys_status: reference.nullish(),
  requester: requesterInput.nullish(),
  last_message_extracted: z.string().max(1_000_000).nullish(),
  sys_attachments: z.array(reference).max(500).nullish(),
  email_addresses: z.array(emailAddressInput).max(1000).nullish(),
  sys_content_rich: richInput.nullish(),
});

export const conversationsInput = z
  .array(conversationInput, { error: 'must be an array of conversations' })
  .min(1, 'must contain at least one conversation')
  .max(MAX_CONVERSATIONS_PER_REQUEST, `must contain at most ${MAX_CONVERSATIONS_PER_REQUEST} conversations`);

export type ConversationInput = z.output<typeof conversationInput>;
export type EditorJsInput = z.output<typeof editorJsInput>;
