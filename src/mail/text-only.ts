// The mail made of bytes in which no header block can be found (a web form's
// bare text, a file saved without its headers): no request is lost for want
// of headers. See parse.ts for when it is used.
import { MailroomError } from '../errors.js';
import { readableText } from './header-hint.js';
import type { InboundMail, MailAddress } from './types.js';
import { decodeUnknownBytes } from './unknown-bytes.js';

/**
 * A message in which no header block can be found (a web form's bare text, a
 * file saved without its headers): still a mail from an unknown sender with
 * its text, so nobody's request is lost. Only bytes that are not text at all
 * (binary files) are unreadable.
 */
export function textOnlyMail(raw: Buffer, content: Buffer, maxTextChars: number, warnings: string[]): InboundMail {
  if (!readableText(content)) {
    const why = content.toString('latin1').trim() === '' ? 'it is empty' : 'it has no header block and its bytes are not text';
    throw new MailroomError('MAIL_UNREADABLE', `The message cannot be read: ${why}`);
  }
  warnings.push('no header block found: read as text from an unknown sender');
  let text = decodeUnknownBytes(content).replace(/\r\n?/g, '\n');
  if (text.length > maxTextChars) {
    text = text.slice(0, maxTextChars);
    warnings.push(`text cut to ${maxTextChars} characters`);
  }
  const none: MailAddress[] = [];
  return {
    messageId: null,
    inReplyTo: [],
    references: [],
    subject: '',
    date: null,
    addresses: { from: none, sender: none, to: none, cc: none, bcc: none, replyTo: none, resentFrom: none, resentTo: none, xForwardedTo: none, deliveredTo: none, xOriginalTo: none },
    badAddresses: [],
    text,
    html: null,
    attachments: [],
    headers: new Map(),
    contentType: 'text/plain',
    reportType: null,
    rawSize: raw.length,
    warnings,
  };
}
