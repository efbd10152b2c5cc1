// Decodes Microsoft TNEF (`winmail.dat`, application/ms-tnef) into the files
// it wraps. Outlook and Exchange send attachments inside TNEF to clients they
// believe are Outlook; without this, a customer's PDF reaches the ticket as an
// opaque winmail.dat.
//
// Written from MS-OXTNEF rather than taken from npm: the only package
// (node-tnef) is small, unmaintained and does no bounds checking. Here every
// length is checked against the buffer, the work is linear in the input, and
// the number and total size of attachments are capped. A buffer that is not
// TNEF, or is cut short, throws MAIL_UNPARSEABLE (the caller keeps the
// original winmail.dat); one over the caps throws MAIL_LIMIT_EXCEEDED.
// Bytes after the last whole attribute that do not start a valid attribute
// are ignored, as Outlook-generated files with trailing garbage exist.

import type { TextDecoder } from 'node:util';
import { MailroomError } from '../errors.js';
import { PT, decoderFor, propertyNumber, propertyString, readMapiProperties } from './tnef/mapi.js';
import type { MapiProperty } from './tnef/mapi.js';

export interface TnefLimits {
  /** Attachments decoded at most (default 100). */
  maxAttachments?: number;
  /** Total bytes of decoded attachment content at most (default 50 MiB). */
  maxBytes?: number;
}

export interface TnefAttachment {
  filename: string;
  content: Buffer;
  contentType?: string;
}

const TNEF_SIGNATURE = 0x223e9f78;
const LEVEL_MESSAGE = 0x01;
const LEVEL_ATTACHMENT = 0x02;

// Attribute ids (low 16 bits of the attribute dword; the high word is its type).
const ATT_OEM_CODEPAGE = 0x9007;
const ATT_MAPI_PROPS = 0x9003;
const ATT_ATTACH_RENDDATA = 0x9002;
const ATT_ATTACH_TITLE = 0x8010;
const ATT_ATTACH_DATA = 0x800f;
const ATT_ATTACHMENT = 0x9005;

// MAPI property ids.
const PR_DISPLAY_NAME = 0x3001;
const PR_ATTACH_DATA = 0x3701; // PR_ATTACH_DATA_BIN or PR_ATTACH_DATA_OBJ by type
const PR_ATTACH_FILENAME = 0x3704;
const PR_ATTACH_LONG_FILENAME = 0x3707;
const PR_ATTACH_MIME_TAG = 0x370e;
const PR_INTERNET_CPID = 0x3fde;

/** {00020307-0000-0000-C000-000000000046} as stored (little-endian fields). */
const IID_IMESSAGE = Buffer.from('0703020000000000c000000000000046', 'hex');

const DEFAULT_NAME = 'Untitled Attachment';
/** Properties per MAPI list at most; far above what Outlook writes. */
const MAX_PROPERTIES = 10_000;

interface Draft {
  title: string | null;
  shortName: string | null;
  longName: string | null;
  displayName: string | null;
  mimeTag: string | null;
  data: Buffer | null;
  embeddedMessage: boolean;
}

const emptyDraft = (): Draft => ({ title: null, shortName: null, longName: null, displayName: null, mimeTag: null, data: null, embeddedMessage: false });

/**
 * Decodes the attachments of a TNEF stream. Attachments without content
 * (e.g. ones only referenced by a link) are left out.
 */
export function decodeTnef(buf: Buffer, limits: TnefLimits = {}): { attachments: TnefAttachment[] } {
  const maxAttachments = limits.maxAttachments ?? 100;
  const maxBytes = limits.maxBytes ?? 50 * 1024 * 1024;
  if (buf.length < 6 || buf.readUInt32LE(0) !== TNEF_SIGNATURE) {
    throw new MailroomError('MAIL_UNPARSEABLE', 'Not a TNEF stream: the signature 0x223E9F78 is missing');
  }

  let codepage: number | null = null;
  const drafts: Draft[] = [];
  let current: Draft | null = null;
  const attachment = (): Draft => {
    if (current === null) {
      if (drafts.length >= maxAttachments) {
        throw new MailroomError('MAIL_LIMIT_EXCEEDED', `TNEF stream holds more than ${maxAttachments} attachments`);
      }
      current = emptyDraft();
      drafts.push(current);
    }
    return current;
  };

  // Signature (4) and legacy key (2), then attributes:
  // level (1), id (4), length (4), data (length), checksum (2).
  let pos = 6;
  let attributes = 0;
  while (pos < buf.length) {
    const level = buf[pos];
    if (level !== LEVEL_MESSAGE && level !== LEVEL_ATTACHMENT) {
      if (attributes === 0) throw new MailroomError('MAIL_UNPARSEABLE', `TNEF stream has an invalid attribute level ${String(level)} at byte ${pos}`);
      break; // trailing garbage after whole attributes
    }
    if (pos + 9 > buf.length) throw truncated(pos);
    const id = buf.readUInt16LE(pos + 1);
    const length = buf.readUInt32LE(pos + 5);
    const dataStart = pos + 9;
    if (length > buf.length - dataStart || dataStart + length + 2 > buf.length) throw truncated(pos);
    const data = buf.subarray(dataStart, dataStart + length);
    pos = dataStart + length + 2; // the checksum is not enforced: real senders get it wrong
    attributes++;

    if (level === LEVEL_MESSAGE) {
      if (id === ATT_OEM_CODEPAGE && data.length >= 4) codepage = data.readUInt32LE(0);
      else if (id === ATT_MAPI_PROPS) codepage = messageCodepage(data) ?? codepage;
      continue;
    }
    switch (id) {
      case ATT_ATTACH_RENDDATA:
        current = null; // attAttachRenddata opens the next attachment
        attachment();
        break;
      case ATT_ATTACH_TITLE:
        attachment().title = decodeString(data, decoderFor(codepage));
        break;
      case ATT_ATTACH_DATA:
        attachment().data = data;
        break;
      case ATT_ATTACHMENT:
        applyProperties(attachment(), readMapiProperties(data, MAX_PROPERTIES), decoderFor(codepage));
        break;
      default:
        break;
    }
  }

  const result: TnefAttachment[] = [];
  let total = 0;
  for (const d of drafts) {
    if (d.data === null) continue;
    total += d.data.length;
    if (total > maxBytes) throw new MailroomError('MAIL_LIMIT_EXCEEDED', `TNEF attachments exceed ${maxBytes} bytes`);
    const out: TnefAttachment = { filename: pickName(d), content: Buffer.from(d.data) };
    const type = d.embeddedMessage ? 'application/ms-tnef' : d.mimeTag?.trim().toLowerCase();
    if (type !== undefined && /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) out.contentType = type;
    result.push(out);
  }
  return { attachments: result };
}

function truncated(pos: number): MailroomError {
  return new MailroomError('MAIL_UNPARSEABLE', `TNEF stream is truncated in the attribute at byte ${pos}`);
}

function applyProperties(draft: Draft, props: MapiProperty[], decoder: TextDecoder): void {
  for (const p of props) {
    switch (p.id) {
      case PR_ATTACH_LONG_FILENAME:
        draft.longName = propertyString(p, decoder) ?? draft.longName;
        break;
      case PR_ATTACH_FILENAME:
        draft.shortName = propertyString(p, decoder) ?? draft.shortName;
        break;
      case PR_DISPLAY_NAME:
        draft.displayName = propertyString(p, decoder) ?? draft.displayName;
        break;
      case PR_ATTACH_MIME_TAG:
        draft.mimeTag = propertyString(p, decoder) ?? draft.mimeTag;
        break;
      case PR_ATTACH_DATA: {
        const value = p.values[0];
        if (value === undefined) break;
        if (p.type === PT.OBJECT && value.length >= 16) {
          // PR_ATTACH_DATA_OBJ starts with the 16-byte IID of the object's
          // interface. An embedded message (IID_IMessage) is itself a TNEF
          // stream: it replaces the "MAPI 1.0 embedded message is not
          // supported" placeholder in attAttachData and is handed on as
          // application/ms-tnef, for the caller to treat as any winmail.dat.
          if (value.subarray(0, 16).equals(IID_IMESSAGE)) draft.embeddedMessage = true;
          draft.data = value.subarray(16);
        } else if (p.type === PT.BINARY) {
          draft.data = value;
        }
        break;
      }
      default:
        break;
    }
  }
}

/** PR_INTERNET_CPID from the message's attMAPIProps, which names the code page of its PT_STRING8 values. */
function messageCodepage(data: Buffer): number | null {
  for (const p of readMapiProperties(data, MAX_PROPERTIES)) {
    if (p.id === PR_INTERNET_CPID) return propertyNumber(p);
  }
  return null;
}

function decodeString(data: Buffer, decoder: TextDecoder): string {
  const text = decoder.decode(data);
  const nul = text.indexOf('\0');
  return nul === -1 ? text : text.slice(0, nul);
}

/** Long file name, then the 8.3 name, title and display name; never a path. */
function pickName(d: Draft): string {
  for (const candidate of [d.longName, d.shortName, d.title, d.displayName]) {
    const name = candidate === null ? '' : baseName(candidate);
    if (name !== '') return name;
  }
  return DEFAULT_NAME;
}

function baseName(name: string): string {
  const cut = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  return name
    .slice(cut + 1)
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, 255);
}
