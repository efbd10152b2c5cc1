// Replies as real clients write them (fixtures in test/fixtures/reply): the
// HTML structure of each client, plain-text bodies, signatures, forwards.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractReply } from '../../../../src/mail/reply/extract.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/reply');
const read = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const html = (name: string): string => extractReply({ text: null, html: read(name) });
const text = (name: string): string => extractReply({ text: read(name), html: null });

describe('HTML replies by client', () => {
  it('Gmail: drops div.gmail_quote and the gmail_signature', () => {
    expect(html('gmail-reply.html')).toBe(
      'Hi Anna,\n\nThanks, the invoice is attached now. Let me know if anything is missing.\n\nBest,\nTom',
    );
  });

  it('prefers the HTML part when both parts are present', () => {
    const got = extractReply({ text: read('gmail-reply.txt'), html: read('gmail-reply.html') });
    expect(got).toBe('Hi Anna,\n\nThanks, the invoice is attached now. Let me know if anything is missing.\n\nBest,\nTom');
  });

  it('Outlook desktop: cuts at the border-top:solid #E1E1E1 "Von:" block', () => {
    expect(html('outlook-desktop-reply.html')).toBe(
      'Hallo Herr Weber,\n\ndas Ersatzteil ist heute verschickt worden, die Sendungsnummer folgt per SMS.\n\nMit freundlichen Grüßen\nJana Krüger',
    );
  });

  it('Outlook 2010: cuts at the border-top:solid #B5C4DF "From:" block', () => {
    expect(html('outlook-desktop-2010-reply.html')).toBe('Confirmed, the meeting room is booked for Friday.');
  });

  it('Outlook web: cuts at div#appendonsend / hr / div#divRplyFwdMsg', () => {
    expect(html('outlook-web-reply.html')).toBe(
      'Hi Marco,\n\nI have reset your password. You should receive a link within a few minutes.\n\nRegards,\nPriya',
    );
  });

  it('Outlook web, French, hr + divRplyFwdMsg without appendonsend', () => {
    expect(html('outlook-web-reply-fr.html')).toBe("Bonjour,\n\nC'est noté, nous passerons mardi matin.\n\nCordialement,\nLuc");
  });

  it('Apple Mail: drops blockquote type=cite with its attribution', () => {
    expect(html('apple-mail-reply.html')).toBe(
      'Yes, Thursday at 3 pm works for us. We will bring the signed contract.\n\nClaire',
    );
  });

  it('Apple Mail on iPhone: drops the AppleMailSignature and the cite', () => {
    expect(html('apple-mail-iphone-reply.html')).toBe('Perfect, see you there.');
  });

  it('Thunderbird HTML: moz-cite-prefix + blockquote above the answer, moz-signature below', () => {
    expect(html('thunderbird-reply.html')).toBe('No, it failed again at 02:13. The log is attached.\n\nLena');
  });

  it('Yahoo: drops the ydp…yahoo_quoted container', () => {
    expect(html('yahoo-reply.html')).toBe(
      'Hello, the package arrived today but the box was damaged. Photos attached.\n\nMaria',
    );
  });

  it('Proton: drops protonmail_quote and the signature block', () => {
    expect(html('proton-reply.html')).toBe('Thanks, I confirm the new address is correct.');
  });

  it('Zimbra: cuts at hr#zwchr', () => {
    expect(html('zimbra-reply.html')).toBe('Bonjour,\n\nLe problème est résolu, merci.\n\nSophie');
  });

  it('Gmail forward with no new text is kept whole', () => {
    const got = html('gmail-forward.html');
    expect(got.startsWith('---------- Forwarded message ---------\nFrom: Lisa Park')).toBe(true);
    expect(got).toContain('please find our quote 2024-117 attached. It is valid until the end of May.');
    expect(got.endsWith('Lisa')).toBe(true);
  });

  it('keeps the reply when text sits above a forwarded Gmail quote', () => {
    const withNote = read('gmail-forward.html').replace('<div dir="ltr"><br><br>', '<div dir="ltr">FYI, see the quote below.<br><br>');
    expect(extractReply({ text: null, html: withNote })).toBe('FYI, see the quote below.');
  });

  it('Gmail bottom-post: the answer below a gmail_quote is kept, the quote dropped', () => {
    const mail =
      '<div dir="ltr"><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 6 May 2024 at 09:12, Anna &lt;anna@customer.example&gt; wrote:<br></div>' +
      '<blockquote class="gmail_quote">Is the invoice ready?</blockquote></div><div>Yes, it is attached.</div></div>';
    expect(extractReply({ text: null, html: mail })).toBe('Yes, it is attached.');
  });

  it('falls back to the text part when the HTML renders to nothing', () => {
    const got = extractReply({ text: read('signature.txt'), html: '<html><body><img src="cid:scan"></body></html>' });
    expect(got.startsWith('Hi,\n\nthe printer on floor 3')).toBe(true);
  });

  it('keeps interleaved quotes inside a generic blockquote reply', () => {
    const got = extractReply({
      text: null,
      html: '<div>See my answers below.</div><blockquote><div>Which version?</div></blockquote><div>4.2.1</div><blockquote><div>Since when?</div></blockquote><div>Since Monday.</div>',
    });
    expect(got).toBe('See my answers below.\n> Which version?\n\n4.2.1\n> Since when?\n\nSince Monday.');
  });
});

describe('plain-text replies', () => {
  it('Gmail plain text with a "-- " signature and an attribution', () => {
    expect(text('gmail-reply.txt')).toBe(
      'Hi Anna,\n\nThanks, the invoice is attached now. Let me know if anything is missing.\n\nBest,\nTom',
    );
  });

  it('Thunderbird plain, bottom-posted under a German attribution', () => {
    expect(text('thunderbird-reply.txt')).toBe('Nein, sie ist um 02:13 wieder abgebrochen. Das Protokoll hängt an.\n\nLena');
  });

  it('Outlook "From:/Sent:/To:/Cc:/Subject:" block (en)', () => {
    expect(text('outlook-plain-en.txt')).toBe('Please go ahead with the upgrade on Saturday.\n\nKind regards,\nRobert');
  });

  it('Outlook "Von:/Gesendet:/An:/Betreff:" block (de)', () => {
    expect(text('outlook-plain-de.txt')).toBe(
      'Bitte schicken Sie mir die Rechnung noch einmal als PDF.\n\nDanke und Gruß\nMartina Vogel',
    );
  });

  it('"-----Ursprüngliche Nachricht-----" separator', () => {
    expect(text('outlook-original-message-de.txt')).toBe('Die Lieferung kam vollständig an, danke.');
  });

  it('"-- " signature', () => {
    expect(text('signature.txt')).toBe(
      'Hi,\n\nthe printer on floor 3 is jammed again. Could someone have a look today?\n\nThanks\nPaul',
    );
  });

  it('"Sent from my iPhone" and the quote below it', () => {
    expect(text('mobile-signature.txt')).toBe('Approved, go ahead.');
  });

  it('top-posted reply with an inline > quote below', () => {
    expect(text('top-posted-inline-quote.txt')).toBe('Sounds good, I will send the signed form tomorrow morning.\n\nKevin');
  });

  it('interleaved answers keep their quotes, the attribution goes', () => {
    expect(text('interleaved.txt')).toBe(
      '> Which version are you running?\n\n4.2.1\n\n> Did it work before the update?\n\nYes, it worked fine on 4.1.\n\nBen',
    );
  });

  it('forward with no new text (Apple "Begin forwarded message:") is kept whole', () => {
    const input = read('forward-apple.txt');
    expect(text('forward-apple.txt')).toBe(input.trim());
  });

  it('forward with no new text (Gmail) is kept whole', () => {
    const got = text('gmail-forward.txt');
    expect(got.startsWith('---------- Forwarded message ---------\nFrom: Lisa Park')).toBe(true);
    expect(got.endsWith('It is valid until the end of May.\n\nLisa')).toBe(true);
  });

  it('an empty mail stays empty', () => {
    expect(extractReply({ text: null, html: null })).toBe('');
    expect(extractReply({ text: ' \r\n\n ', html: '<html><body> </body></html>' })).toBe('');
  });

  it('normalises CRLF and blank-line runs but keeps paragraphs and indentation', () => {
    expect(extractReply({ text: 'One\r\n\r\n\r\n\r\n    code  \r\nTwo\u00a0words', html: null })).toBe('One\n\n    code\nTwo words');
  });

  it('keeps ordinary lines that merely look like headers or attributions', () => {
    const body = 'To: whom it may concern\nAs I wrote in 2019:\nthe server needs more memory.\n\nOn Monday the customer wrote that it is slow.';
    expect(extractReply({ text: body, html: null })).toBe(body);
  });

  it('is never longer than its input', () => {
    for (const name of fs.readdirSync(FIXTURES)) {
      const input = read(name);
      const got = name.endsWith('.html') ? html(name) : text(name);
      expect(got.length).toBeLessThanOrEqual(input.length);
      expect(got).toBe(got.trim());
    }
  });
});
