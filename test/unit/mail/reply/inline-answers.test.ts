// Answers written inside the quoted history (issue 14, item 6): Outlook
// desktop's inline comments (a "[Name]" preface, or the reply colour), Gmail's
// older `gmail_extra` wrapper, and plain-text answers between "> " lines below
// an Outlook header block. The answers and the quotes they answer are kept, a
// trailing full quote is dropped, the attribution or header block above goes
// (PRODUCT.md: "On … wrote:" / "From: … Sent: …" headers are removed);
// top-posted replies are not affected.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractReply } from '../../../../src/mail/reply/extract.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/reply');
const read = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const html = (source: string): string => extractReply({ text: null, html: source });
const text = (source: string): string => extractReply({ text: source, html: null });

const OUTLOOK_HEADER =
  "<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b>From:</b> Sarah Lee &lt;support@vendor.example&gt;<br>" +
  '<b>Sent:</b> Monday, May 6, 2024 9:12 AM<br><b>To:</b> Tom Baker<br><b>Subject:</b> RE: Printer</p></div></div>';
const p = (body: string, colour?: string): string =>
  colour === undefined ? `<p class=MsoNormal>${body}</p>` : `<p class=MsoNormal><span style='color:${colour}'>${body}</span></p>`;

describe('Outlook desktop: answers inside the quoted history', () => {
  it('keeps answers marked with the "[Name]" preface and the questions they answer; drops the header block and the rest', () => {
    const got = html(read('outlook-desktop-inline-preface.html'));
    // PRODUCT.md: Outlook "From: … Sent: …" headers are removed, like "On … wrote:".
    expect(got.startsWith('Hi Sarah,\n\nplease see my answers inline below.\n\nTom\n\n> Hello Tom,\n>\n> to narrow this down')).toBe(true);
    expect(got).not.toMatch(/From:|Sent:|Subject:/);
    expect(got).toContain('> 1. Which firmware version is installed?\n\n[Tom Baker] 4.2.1, updated last Friday.');
    expect(got).toContain('> 2. Does the display show an error code?\n\n[Tom Baker] Yes, E-38 right after switching on.');
    // The answer's second paragraph, in the same colour without a preface, belongs to it.
    expect(got.endsWith('[Tom Baker] Yes, E-38 right after switching on.\nIt goes away after a restart but comes back within the hour.')).toBe(true);
    // The unanswered rest, the agent's signature and the older mail (with its old inline note) are history.
    expect(got).not.toMatch(/3\. Is the printer|Kind regards|Older inline note|Our printer/);
  });

  it('keeps answers written in the reply colour of the text above (Outlook 2010, no preface)', () => {
    const got = html(read('outlook-desktop-inline-colour.html'));
    expect(got.startsWith('Hallo Frau Schneider,\nmeine Antworten stehen unten im Text.\nGruß, Jens Otto')).toBe(true);
    expect(got).toContain('> wann haben Sie das Gerät gekauft?\n\nIm März 2023, die Rechnung hängt an.\n> Ist das Typenschild noch lesbar?\n\nJa, Seriennummer AB-12345.');
    expect(got).not.toMatch(/Anke Schneider$|Mit freundlichen/);
  });

  it("uses Outlook's reply style colour when the text above is mostly a signature in another colour", () => {
    const blue = '#1F497D';
    const grey = '#7F7F7F';
    const style = '<head><style><!--\nspan.EmailStyle17\n\t{mso-style-type:personal-reply;\n\tfont-family:"Calibri",sans-serif;\n\tcolor:#1F497D;}\n--></style></head>';
    const signature = p('Tom Baker | Facilities Manager | Example Logistics GmbH', grey) + p('Phone +49 30 1234567 | Mobile +49 170 1234567', grey);
    const source =
      `<html>${style}<body>` + p('See below.', blue) + signature + OUTLOOK_HEADER +
      p('Hello Tom,') + p('Which room is affected?') + p('Room 2.04 on the second floor.', blue) + p('Regards, Sarah') + '</body></html>';
    const got = html(source);
    expect(got).toContain('> Which room is affected?\n\nRoom 2.04 on the second floor.');
    expect(got).not.toContain('Regards, Sarah');
  });

  it('a top-posted reply whose quoted mail is in the same reply colour stays a top-posted reply', () => {
    const blue = '#1F497D';
    const source =
      p('Thanks, that works.', blue) + p('Tom', blue) + OUTLOOK_HEADER +
      p('Hello Tom,', blue) + p('please restart the printer.', blue) + p('Sarah Lee', '#7F7F7F') + p('Vendor GmbH, Berlin', blue);
    expect(html(source)).toBe('Thanks, that works.\nTom');
  });

  it('a top-posted reply above a quoted mail with coloured or bracketed paragraphs stays a top-posted reply', () => {
    const source =
      p('Thanks, that works.') + OUTLOOK_HEADER + p('<b>[EXTERNAL]</b> This mail came from outside.', '#C00000') +
      p('Hello Tom,') + p('<b><i>[cid:image001.png@01DA]</i></b>') + p('Important: restart first.', '#C00000') + p('Sarah');
    expect(html(source)).toBe('Thanks, that works.');
  });

  it('a bracketed word in plain (not bold or italic) text is no preface', () => {
    const source = p('Done.') + OUTLOOK_HEADER + p('Hello,') + p('[Step 1] Open the tray.') + p('Sarah');
    expect(html(source)).toBe('Done.');
  });
});

describe('new Outlook and Outlook on the web', () => {
  it('finds answers in the reply colour below the empty "appendonsend" mark and the divRplyFwdMsg header', () => {
    const div = (body: string, colour: string): string => `<div style="font-family: Aptos; font-size: 12pt; color: ${colour};">${body}</div>`;
    const mine = 'rgb(192, 0, 0)';
    const source =
      div('Hi Priya, answers below.', mine) + div('Marco', mine) + '<div id="appendonsend"></div><hr style="display:inline-block;width:98%">' +
      '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri" style="font-size:11pt" color="#000000"><b>From:</b> IT Helpdesk &lt;helpdesk@corp.example&gt;<br>' +
      '<b>Sent:</b> Monday, May 6, 2024 11:02 AM<br><b>To:</b> Marco<br><b>Subject:</b> RE: Cannot log in</font><div>&nbsp;</div></div>' +
      div('Hello Marco,', 'rgb(0, 0, 0)') + div('Which browser do you use?', 'rgb(0, 0, 0)') + div('Edge, version 124.', mine) +
      div('Regards, Priya', 'rgb(0, 0, 0)');
    const got = html(source);
    expect(got).toBe('Hi Priya, answers below.\nMarco\n\n> Hello Marco,\n> Which browser do you use?\n\nEdge, version 124.');
    expect(got).toContain('> Which browser do you use?\n\nEdge, version 124.');
    expect(got).not.toContain('Regards, Priya');
  });
});

describe('bounded work', () => {
  it('25,000 question/answer pairs inside 100 levels of nesting after Outlook history', () => {
    const pairs = `${p('Question?')}${p('<b><i>[Tom]</i></b> Answer.')}`.repeat(25_000);
    const source = `${p('See below.')}${OUTLOOK_HEADER}${'<div>'.repeat(100)}${pairs}${p('Last question?')}`;
    const start = performance.now();
    const got = html(source);
    console.log(`inline answers: 25k pairs: ${(performance.now() - start).toFixed(0)} ms`);
    expect(got.startsWith('See below.')).toBe(true);
    expect(got.endsWith('> Question?\n\n[Tom] Answer.')).toBe(true);
  });
});

describe("Gmail's older gmail_extra wrapper", () => {
  it('keeps text typed inside gmail_extra above the quote, drops signature, attribution and quote', () => {
    expect(html(read('gmail-extra-reply.html'))).toBe(
      'Thanks, the restart fixed it.\nOne more thing: the fan is still loud when it prints. Is that normal?',
    );
  });

  it('keeps answers written between the quotes inside gmail_extra', () => {
    expect(html(read('gmail-extra-inline.html'))).toBe(
      '> Which model do you have?\n\nThe LX-200.\n\n> Is it still under warranty?\n>\n> Best regards\n> Acme Support\n\nYes, until October.',
    );
  });

  it('still drops a plain gmail_extra quote below a top-posted reply', () => {
    const source =
      '<div dir="ltr">Works now.</div><div class="gmail_extra"><br><div class="gmail_quote">On Mon, Jun 3, 2024 at 10:12 AM Acme &lt;s@acme.example&gt; wrote:<br>' +
      '<blockquote class="gmail_quote">Please restart.</blockquote></div><br></div>';
    expect(html(source)).toBe('Works now.');
  });
});

describe('plain text: answers between quoted lines', () => {
  it('keeps the answers and the quotes they answer, drops the trailing full quote with the older mail', () => {
    expect(text(read('plain-inline-answers.txt'))).toBe(
      'Hi,\n\nanswers below.\n\n> Hello Ben,\n>\n> Which firmware version is installed?\n4.2.1\n\n' +
        '> Does the display show an error code?\n> If so, which one?\n\nYes, E-38.\nIt comes back within the hour.',
    );
  });

  it('keeps the answers below an Outlook separator and header block, which go like an "On … wrote:" line', () => {
    expect(text(read('outlook-plain-inline.txt'))).toBe(
      'See my answers below.\n\nTom\n\n> Which firmware version is installed?\n4.2.1\n> Is the printer connected by cable or Wi-Fi?\nBy cable.',
    );
  });

  it('keeps Outlook "[Name]" answers typed into the unquoted original, quoting the questions they answer', () => {
    expect(text(read('outlook-plain-preface.txt'))).toBe(
      'Hi Sarah,\n\nsee my answers below.\n\nTom\n\n> Hello Tom,\n\n' +
        '> to narrow this down I need a few details:\n\n> 1. Which firmware version is installed?\n' +
        '[Tom Baker] 4.2.1, updated last Friday after the vendor announced the fix for\nthe paper jam problem.\n' +
        '> 2. Does the display show an error code?\n[Tom Baker] Yes, E-38 right after switching on.',
    );
  });

  it.each([
    ['banners and tags in brackets', 'Hello,\n[EXTERNAL] This mail came from outside.\n[Note] Restart first.\nSarah\n'],
    ['a bracketed step in lower case', 'Hello,\n[step 1] open the tray\nSarah\n'],
    ['a preface before any question (a quoted mail that starts with it)', '[Tom Baker] wrote this earlier.\nSarah\n'],
    ['two different names', 'Question one?\n[Tom Baker] yes\nQuestion two?\n[Ann Lee] no\n'],
  ])('still cuts at a header block above an unquoted original with %s', (_name, original) => {
    const mail = `Thanks.\n\nFrom: Sarah Lee <support@vendor.example>\nSent: Monday, May 6, 2024 9:12 AM\nTo: Tom\nSubject: Printer\n\n${original}`;
    expect(text(mail)).toBe('Thanks.');
  });

  it('still cuts at an Outlook header block whose quote is not answered', () => {
    const mail =
      'Thanks, that works.\n\n-----Original Message-----\nFrom: Sarah Lee <support@vendor.example>\nSent: Monday, May 6, 2024 9:12 AM\n' +
      'To: Tom\nSubject: Printer\n\n> Please restart the printer.\n> Sarah\n';
    expect(text(mail)).toBe('Thanks, that works.');
  });

  it('still cuts at a header block followed by the unquoted original', () => {
    const mail =
      'Thanks.\n\nFrom: Sarah Lee <support@vendor.example>\nSent: Monday, May 6, 2024 9:12 AM\nTo: Tom\nSubject: Printer\n\n' +
      'Please restart the printer.\n> quoted older line\nSarah\n';
    expect(text(mail)).toBe('Thanks.');
  });
});
