// Lines that only look like history must not cut the customer's new text
// (losing their words is worse than keeping some quote), while the genuine
// client shapes next to them are still removed. Each "kept" case was a false
// cut found in review; each "cut" case is its real counterpart.
import { describe, expect, it } from 'vitest';
import { extractReply } from '../../../../src/mail/reply/extract.js';

const reply = (text: string): string => extractReply({ text, html: null });

describe('prose that reads like a reply header block', () => {
  it.each([
    ['a booking', 'Hi,\nplease book:\nFrom: Berlin\nTo: Paris\nDate: 12 June 2024\nPassengers: 2'],
    ['a booking with a blank line and more text', 'Hi,\nplease book:\nFrom: Berlin\nTo: Paris\nDate: 12 June 2024\n\nPassengers: 2\nThanks, Anna'],
    ['a shipping order', 'Hi,\nFrom: our Berlin office\nTo: your Munich warehouse\nDate: 12 June\nPlease ship the 3 pallets, order 555.\nThanks, Anna'],
    ['addresses, but the text goes on without a blank line', 'Please forward this:\nFrom: anna@customer.example\nTo: bob@vendor.example\nSubject: refund\nThe refund is still missing.'],
  ])('keeps %s', (_name, body) => {
    expect(reply(body)).toBe(body);
  });

  it('cuts a real Outlook block: an address in From, a time in Sent, the quoted mail below', () => {
    const mail =
      'Still broken.\n\nBest,\nJohn\n\nFrom: Ann Lee <ann@example.com>\nSent: Monday, June 3, 2024 10:30 AM\nTo: John <john@customer.example>\nSubject: RE: [#12] Printer\n\nPlease restart the printer.';
    expect(reply(mail)).toBe('Still broken.\n\nBest,\nJohn');
  });

  it('cuts an Outlook block with names only when Sent carries a time', () => {
    const mail = 'Still broken.\n\nFrom: Acme Support\nSent: Monday, June 3, 2024 10:30 AM\nTo: John\nSubject: RE: Printer\n\nPlease restart.';
    expect(reply(mail)).toBe('Still broken.');
  });

  it.each([
    ['an address and a time', 'Thanks, works now.\nFrom: a@b.c\nSent: Monday, June 3, 2024 10:30 AM\nTo: x@y.z\nSubject: RE: Printer\nold text'],
    ['names only and a time in Sent', 'Thanks, works now.\n\nFrom: Ann Lee\nSent: Monday, June 3, 2024 10:30 AM\nTo: John\nSubject: RE: Printer\nold text'],
  ])('cuts a client block with %s and the quoted mail directly below (no blank line)', (_name, mail) => {
    expect(reply(mail)).toBe('Thanks, works now.');
  });

  it.each([
    ['an Outlook div without a border', '<div><b>From:</b> a@b.c<br><b>Sent:</b> Monday, June 3, 2024 10:30 AM<br><b>To:</b> x@y.z<br><b>Subject:</b> RE: Printer</div>'],
    ['nested divs, names only', '<div><div><b>From:</b> Ann Lee<br><b>Sent:</b> Monday, June 3, 2024 10:30 AM<br><b>To:</b> John<br><b>Subject:</b> RE: Printer</div></div>'],
  ])('cuts a rendered HTML header block (%s) followed directly by the old mail', (_name, block) => {
    const html = `<div>Thanks, works now.</div>${block}<div>old text</div>`;
    expect(extractReply({ text: null, html })).toBe('Thanks, works now.');
  });

  it('keeps a date with a time when the block has no Subject and text follows directly', () => {
    const body = 'Hi,\nplease book:\nFrom: Berlin\nTo: Paris\nDate: 12 June 2024 10:30\nPassengers: 2';
    expect(reply(body)).toBe(body);
  });

  it('cuts a block without address or time when a rule stands above it', () => {
    const mail = 'This is a reply.\n\n------------------------------\n*From:* Outlook user\n*Sent:* 2016-01-27\n*To:* Someone\n*Subject:* Question\n\nOld text.';
    expect(reply(mail)).toBe('This is a reply.');
  });
});

describe('prose that reads like an attribution', () => {
  it.each([
    ['a date, an opener and " wrote "', 'Hi,\nOn 3 June 2024 I wrote to you about the refund:\nit still has not arrived. Please check.\nAnna'],
    ['a time, an opener and "said:"', 'Hello,\nAt 10:30 this morning the display said:\nE42 paper jam\nWe removed all paper but it persists.\nRegards'],
    ['a date and "wrote:" with a pronoun as its subject', 'Hello,\nOn 3 June 2024 at 10:30 I wrote:\nthe order number is 4711.\nRegards'],
    ['the same at the very top of the mail', 'On 3 June 2024 I wrote to you about the refund:\nit still has not arrived.'],
    ['a date and "wrote:" without address or time, text below', 'Hi,\nOn 3 June 2024 the technician wrote:\nreset the device. I did and it still fails.'],
  ])('keeps %s', (_name, body) => {
    expect(reply(body)).toBe(body);
  });

  it('keeps an intro line that has no client shape when answers follow the quote', () => {
    const body = 'Hi,\nOn 3 June 2024 Anna wrote:\n> Which model is it?\nThe HP 4000.\nThanks';
    expect(reply(body)).toBe(body);
  });

  it('cuts a client attribution with an address and the quote below it', () => {
    const mail = 'Thanks, that fixed it.\n\nOn Mon, 3 Jun 2024 at 10:30, Ann <ann@example.com> wrote:\n> Please restart.\n> Bye';
    expect(reply(mail)).toBe('Thanks, that fixed it.');
  });

  it('cuts a client attribution with a date and a time even without ">" below', () => {
    const mail = 'Thanks.\n\nOn 03.06.2024 10:30, Ann Lee wrote:\n\nPlease restart.';
    expect(reply(mail)).toBe('Thanks.');
  });

  it('cuts an attribution without client shape when quoted lines follow it to the end', () => {
    expect(reply('Thanks.\n\nOn 3 June 2024, Ann Lee wrote:\n> Please restart.\n')).toBe('Thanks.');
  });

  it('cuts an attribution without client shape when a header block follows it', () => {
    const mail =
      'Thanks.\n\nOn 3 June 2024, Ann Lee wrote:\n\nFrom: Ann Lee <ann@example.com>\nSent: Monday, June 3, 2024 10:30 AM\nTo: Bob\nSubject: x\n\nOld text.';
    expect(reply(mail)).toBe('Thanks.');
  });

  it('keeps the Eudora "At <date> <time>, you wrote:" attribution working', () => {
    expect(reply("yes we're fine\n\nAt 6/16/2016 08:32 PM, you wrote:\n>Are you able to log in?\n")).toBe("yes we're fine");
  });
});

describe('"says:" / "said:" introducing a quote is prose (bare attributions)', () => {
  it.each([
    ['"The log says:" above a quote and text', 'The log says:\n> error 42 at line 7\nand then it crashes.\nThanks'],
    ['"the error says:" after a greeting', 'Hello,\n\nWhen I print, the error says:\n> Paper jam in tray 2\nbut there is no paper in tray 2.\nRegards'],
    ['"Then I wrote:" (a pronoun is no author)', 'Then I wrote:\n> please call me\nbut nobody called.'],
    ['"The manual writes:" (a determiner is no author)', 'The manual writes:\n> hold the button for 5 s\nwhich does nothing.'],
  ])('keeps %s', (_name, body) => {
    expect(reply(body)).toBe(body);
  });

  it.each(['The Help Desk', 'Your Support Team', 'On Monday, Anna', 'Ahmet Er', 'support'])(
    'cuts "%s wrote:" directly above a quote (determiners and openers are fine there)',
    (author) => {
      expect(reply(`Sure, thanks.\n\nSent from my iPhone\n\n${author} wrote:\n> old`)).toBe('Sure, thanks.');
      expect(reply(`${author} wrote:\n> Did it work?\n\nYes it worked.\n`)).toBe('Yes it worked.');
    },
  );

  it.each(['I wrote:', 'We wrote:', 'Then I wrote:', 'Anna said:', 'The Help Desk says:'])(
    'keeps "%s" above a quote at the end of the mail (a pronoun or a saying verb is no attribution)',
    (line) => {
      expect(reply(`Thanks.\n\n${line}\n> old`)).toBe(`Thanks.\n\n${line}`);
    },
  );

  it('cuts a Thunderbird moz-cite-prefix with a determiner in the author', () => {
    const html =
      '<p>Thanks, fixed now.</p><div class="moz-cite-prefix">The Help Desk wrote:<br></div><blockquote type="cite"><p>Please reboot.</p></blockquote>';
    expect(extractReply({ text: null, html })).toBe('Thanks, fixed now.');
  });

  it('drops "Name wrote:" and its quote above a bottom-posted reply', () => {
    expect(reply('Anna Schmidt wrote:\n> Is the invoice ready?\n\nYes, it is attached.')).toBe('Yes, it is attached.');
  });

  it('cuts "Name wrote:" and the quote below new text', () => {
    expect(reply('Yes, it is attached.\n\nAnna Schmidt wrote:\n> Is the invoice ready?\n')).toBe('Yes, it is attached.');
  });

  it('keeps answers written between quotes below a client attribution (attribution dropped)', () => {
    const mail =
      'Hi,\nanswers below.\n\nOn Mon, 3 Jun 2024 at 10:12, Acme <support@acme.example> wrote:\n> What model is it?\nHP 4000\n> What OS?\nWindows 11\n';
    expect(reply(mail)).toBe('Hi,\nanswers below.\n\n> What model is it?\nHP 4000\n> What OS?\nWindows 11');
  });

  it('keeps interleaved answers when the mail starts with the attribution', () => {
    const mail = 'On Mon, 3 Jun 2024 at 10:12, Acme <support@acme.example> wrote:\n> What model is it?\nHP 4000\n> What OS?\nWindows 11\n';
    expect(reply(mail)).toBe('> What model is it?\nHP 4000\n> What OS?\nWindows 11');
  });
});

describe('signature delimiters', () => {
  it.each([
    ['a list continued after "steps:"', 'Hi,\nsteps:\n--\nreboot\nreinstall\nThanks'],
    ['a lower-case line after it', 'Hi,\nthe first part\n--\nand the second part of my question.'],
    ['many lines after it', 'Hi,\n--\nStep one.\nStep two.\nStep three.\nStep four.\nStep five.\nStep six.\nStep seven.'],
    ['long lines after it', `Hi,\n--\n${'The device shows an error every time I switch it on, and it will not go away. '.repeat(2).trim()}`],
  ])('"--" without its trailing space keeps %s', (_name, body) => {
    expect(reply(body)).toBe(body);
  });

  it('drops an RFC 3676 "-- " signature', () => {
    expect(reply('Works now, thanks.\n\n-- \nJane')).toBe('Works now, thanks.');
  });

  it('drops a "-- " signature even in the middle of the mail', () => {
    expect(reply('Works now.\n-- \nJane Doe\nACME Corp\n\nP.S. more text after the signature')).toBe('Works now.');
  });

  it('drops a bare "--" signature among the last short lines of the mail', () => {
    expect(reply('Works now.\n\n--\nJane Doe\nACME Corp | +49 30 1234567\nhttps://acme.example')).toBe('Works now.');
  });

  it('drops a bare "--" signature above quoted history', () => {
    const mail = 'Oh, and the licence is MIT.\n\n--\nŁukasz Niemier\n\nOn 14 Jul 2015 at 00:25, Michael <info@example.com> wrote:\n\n> What is the licence?';
    expect(reply(mail)).toBe('Oh, and the licence is MIT.');
  });
});

describe('phone and app footers', () => {
  it.each([
    ['a courier', 'Hello,\nthe replacement part never arrived.\nSent by DHL on 3 June, tracking 12345.\nPlease check.\nAnna'],
    ['a courier, as the last line', 'Hello,\nthe replacement part never arrived.\nSent by DHL on 3 June, tracking 12345.'],
    ['"Sent with" in a sentence', 'Hi,\nSent with the courier yesterday: the broken unit.\nPlease refund.'],
    ['"Sent with" in a sentence, as the last line', 'Hi,\nthis is what I returned.\nSent with the courier yesterday: the broken unit.'],
    ['Swedish "Från min sida"', 'Hej,\nFrån min sida är det okej att ni byter enheten.\nMvh Anna'],
    ['Dutch "Verzonden met PostNL"', 'Hoi,\nVerzonden met PostNL op dinsdag, maar nooit aangekomen.\nGroet'],
    ['Dutch "Verzonden met PostNL", as the last line', 'Hoi,\nhet pakket is weg.\nVerzonden met PostNL op dinsdag, maar nooit aangekomen.'],
    ['a device named in a sentence, as the last line', 'Hi,\nthe mail bounced.\nSent from my phone on Monday, but it bounced.'],
    ['a footer line in the middle of the text', 'Hi,\nSent from my iPhone\nis what the old mails say, the new ones say nothing.\nAnna'],
    ['a footer followed by an apology that is not about typos', 'Hi,\nthe order is fine.\nSent from my iPhone, sorry for the delay in replying to you'],
  ])('keeps %s', (_name, body) => {
    expect(reply(body)).toBe(body);
  });

  it.each([
    'Sent from my iPhone',
    'Sent from my Samsung Galaxy smartphone.',
    'Sent from my Android device with K-9 Mail. Please excuse my brevity.',
    'Sent from Outlook for iOS',
    'Sent from Mail for Windows',
    'Von meinem iPhone gesendet',
    'Envoyé de mon iPhone',
    'Enviado desde mi iPhone',
    'Inviato da iPhone',
    'Verzonden met mijn iPhone',
    'Verstuurd vanaf mijn iPhone',
    'Skickat från min iPhone',
    "Wysłane z iPhone'a",
    'Отправлено с iPhone',
    'iPhoneから送信',
    '发自我的 iPhone',
  ])('drops a trailing "%s"', (footer) => {
    expect(reply(`Approved, go ahead.\n\n${footer}\n\n`)).toBe('Approved, go ahead.');
  });

  it('drops a trailing footer and the quote below it', () => {
    const mail = 'Approved.\n\nSent from my iPhone\n\n> On 6 May 2024, at 16:40, Ann <ann@example.com> wrote:\n>\n> Can we order?';
    expect(reply(mail)).toBe('Approved.');
  });

  it('drops a footer that ends the new text above a signature', () => {
    expect(reply('Approved.\nSent from my iPad\n-- \nJane')).toBe('Approved.');
  });
});
