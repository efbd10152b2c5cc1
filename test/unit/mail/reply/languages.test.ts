// "On … wrote:" attributions and localized Outlook headers, as Gmail, Apple
// Mail, Thunderbird and Outlook write them in each supported language.
import { describe, expect, it } from 'vitest';
import { extractReply } from '../../../../src/mail/reply/extract.js';

const MAIL = 'anna@customer.example';
const QUOTE = '> Hello,\n> the invoice from April is missing.\n>\n> Anna';

/** [language, client, reply text, attribution as the client writes it] */
const ATTRIBUTIONS: [string, string, string, string][] = [
  ['en', 'Gmail', 'Thanks, I will send it again today.', `On Mon, May 6, 2024 at 9:12 AM Anna Schmidt <${MAIL}> wrote:`],
  ['en', 'Apple Mail', 'Thanks, I will send it again today.', `On 6 May 2024, at 09:12, Anna Schmidt <${MAIL}> wrote:`],
  ['en', 'Thunderbird', 'Thanks, I will send it again today.', 'On 5/6/24 09:12, Anna Schmidt wrote:'],
  ['de', 'Gmail', 'Danke, ich schicke sie heute noch einmal.', `Am Mo., 6. Mai 2024 um 09:12 Uhr schrieb Anna Schmidt <${MAIL}>:`],
  ['de', 'Apple Mail', 'Danke, ich schicke sie heute noch einmal.', `Am 06.05.2024 um 09:12 schrieb Anna Schmidt <${MAIL}>:`],
  ['de', 'Thunderbird', 'Danke, ich schicke sie heute noch einmal.', 'Am 06.05.24 um 09:12 schrieb Anna Schmidt:'],
  ['fr', 'Gmail', 'Merci, je la renvoie aujourd’hui.', `Le lun. 6 mai 2024 à 09:12, Anna Schmidt <${MAIL}> a écrit :`],
  ['fr', 'Thunderbird', 'Merci, je la renvoie aujourd’hui.', 'Le 06/05/2024 à 09:12, Anna Schmidt a écrit :'],
  ['es', 'Gmail', 'Gracias, la envío de nuevo hoy.', `El lun, 6 may 2024 a las 9:12, Anna Schmidt (<${MAIL}>) escribió:`],
  ['es', 'Thunderbird', 'Gracias, la envío de nuevo hoy.', 'El 6/5/24 a las 9:12, Anna Schmidt escribió:'],
  ['it', 'Gmail', 'Grazie, la rispedisco oggi.', `Il giorno lun 6 mag 2024 alle ore 09:12 Anna Schmidt <${MAIL}> ha scritto:`],
  ['it', 'Thunderbird', 'Grazie, la rispedisco oggi.', 'Il 06/05/24 09:12, Anna Schmidt ha scritto:'],
  ['nl', 'Gmail', 'Bedankt, ik stuur hem vandaag opnieuw.', `Op ma 6 mei 2024 om 09:12 schreef Anna Schmidt <${MAIL}>:`],
  ['nl', 'Apple Mail', 'Bedankt, ik stuur hem vandaag opnieuw.', `Op 6 mei 2024, om 09:12 heeft Anna Schmidt <${MAIL}> het volgende geschreven:`],
  ['pt', 'Gmail', 'Obrigado, envio de novo hoje.', `Em seg., 6 de mai. de 2024 às 09:12, Anna Schmidt <${MAIL}> escreveu:`],
  ['pt', 'Apple Mail', 'Obrigado, envio de novo hoje.', `No dia 6 de mai. de 2024, às 09:12, Anna Schmidt <${MAIL}> escreveu:`],
  ['sv', 'Gmail', 'Tack, jag skickar den igen i dag.', `Den mån 6 maj 2024 kl 09:12 skrev Anna Schmidt <${MAIL}>:`],
  ['sv', 'Apple Mail', 'Tack, jag skickar den igen i dag.', `6 maj 2024 kl. 09:12 skrev Anna Schmidt <${MAIL}>:`],
  ['pl', 'Gmail', 'Dziękuję, wyślę ją dziś ponownie.', `pon., 6 maj 2024 o 09:12 Anna Schmidt <${MAIL}> napisał(a):`],
  ['pl', 'Thunderbird', 'Dziękuję, wyślę ją dziś ponownie.', 'W dniu 6.05.2024 o 09:12, Anna Schmidt pisze:'],
  ['ru', 'Gmail', 'Спасибо, отправлю сегодня ещё раз.', `пн, 6 мая 2024 г. в 09:12, Anna Schmidt <${MAIL}>:`],
  ['ru', 'Thunderbird', 'Спасибо, отправлю сегодня ещё раз.', '06.05.2024 09:12, Anna Schmidt пишет:'],
  ['ja', 'Gmail', 'ありがとうございます。本日再送します。', `2024年5月6日(月) 9:12 Anna Schmidt <${MAIL}>:`],
  ['ja', 'Apple Mail', 'ありがとうございます。本日再送します。', `2024/05/06 9:12、Anna Schmidt <${MAIL}>のメール:`],
  ['zh', 'Gmail', '谢谢，我今天再发一次。', `Anna Schmidt <${MAIL}> 于2024年5月6日周一 09:12写道：`],
  ['zh', 'Apple Mail', '谢谢，我今天再发一次。', `在 2024年5月6日，09:12，Anna Schmidt <${MAIL}> 写道：`],
];

describe('"On … wrote:" in each language', () => {
  it.each(ATTRIBUTIONS)('%s (%s): quoted history is removed', (_lang, _client, reply, attribution) => {
    const mail = `${reply}\n\n${attribution}\n${QUOTE}\n`;
    expect(extractReply({ text: mail, html: null })).toBe(reply);
  });

  it.each(ATTRIBUTIONS)('%s (%s): also when the quote is not marked with ">"', (_lang, _client, reply, attribution) => {
    const mail = `${reply}\n\n${attribution}\n\nHello,\nthe invoice from April is missing.\n`;
    expect(extractReply({ text: mail, html: null })).toBe(reply);
  });

  it.each(ATTRIBUTIONS)('%s (%s): bottom-posted reply under the quote', (_lang, _client, reply, attribution) => {
    const mail = `${attribution}\n${QUOTE}\n\n${reply}\n`;
    expect(extractReply({ text: mail, html: null })).toBe(reply);
  });
});

describe('attributions wrapped over several lines', () => {
  it.each([
    ['Gmail en, 2 lines', `On Mon, May 6, 2024 at 9:12 AM Anna Schmidt <\n${MAIL}> wrote:`],
    ['Gmail en, address alone', `On Mon, May 6, 2024 at 9:12 AM Anna Schmidt <${MAIL}>\nwrote:`],
    ['Gmail de, 3 lines', `Am Mo., 6. Mai 2024 um 09:12 Uhr schrieb Anna\nSchmidt <\n${MAIL}>:`],
    ['Gmail de, author first', `Anna Schmidt <${MAIL}> schrieb am Mo., 6. Mai\n2024 um 09:12 Uhr:`],
    ['Apple fr, 3 lines', `Le 6 mai 2024 à 09:12, "Anna Schmidt"\n<${MAIL}>\na écrit :`],
    ['Apple nl, 2 lines', `Op 6 mei 2024 om 09:12 heeft Anna Schmidt <${MAIL}> het\nvolgende geschreven:`],
  ])('%s', (_name, attribution) => {
    const mail = `Thanks, done.\n\nBest\nTom\n\n${attribution}\n\n${QUOTE}\n`;
    expect(extractReply({ text: mail, html: null })).toBe('Thanks, done.\n\nBest\nTom');
  });
});

describe('Outlook header blocks and separators by language', () => {
  const REPLY = 'Reply text.';
  it.each([
    ['en', 'From: A <a@x.example>\nSent: Monday, May 6, 2024 9:41 AM\nTo: B <b@y.example>\nSubject: Test'],
    ['de', 'Von: A <a@x.example>\nGesendet: Montag, 6. Mai 2024 09:41\nAn: B <b@y.example>\nBetreff: Test'],
    ['fr', 'De : A <a@x.example>\nEnvoyé : lundi 6 mai 2024 09:41\nÀ : B <b@y.example>\nObjet : Test'],
    ['es', 'De: A <a@x.example>\nEnviado: lunes, 6 de mayo de 2024 9:41\nPara: B <b@y.example>\nAsunto: Test'],
    ['it', 'Da: A <a@x.example>\nInviato: lunedì 6 maggio 2024 09:41\nA: B <b@y.example>\nOggetto: Test'],
    ['nl', 'Van: A <a@x.example>\nVerzonden: maandag 6 mei 2024 09:41\nAan: B <b@y.example>\nOnderwerp: Test'],
    ['pt', 'De: A <a@x.example>\nEnviado: segunda-feira, 6 de maio de 2024 09:41\nPara: B <b@y.example>\nAssunto: Test'],
    ['sv', 'Från: A <a@x.example>\nSkickat: den 6 maj 2024 09:41\nTill: B <b@y.example>\nÄmne: Test'],
    ['pl', 'Od: A <a@x.example>\nWysłano: poniedziałek, 6 maja 2024 09:41\nDo: B <b@y.example>\nTemat: Test'],
    ['ru', 'От: A <a@x.example>\nОтправлено: 6 мая 2024 г. 9:41\nКому: B <b@y.example>\nТема: Test'],
    ['ja', '差出人: A <a@x.example>\n送信日時: 2024年5月6日 9:41\n宛先: B <b@y.example>\n件名: Test'],
    ['zh', '发件人: A <a@x.example>\n发送时间: 2024年5月6日 9:41\n收件人: B <b@y.example>\n主题: Test'],
    ['en, bold', '*From:* A <a@x.example>\n*Sent:* Monday, May 6, 2024 9:41 AM\n*To:* B\n*Subject:* Test'],
  ])('%s', (_lang, header) => {
    const mail = `${REPLY}\n\n${header}\n\nQuoted body.\n`;
    expect(extractReply({ text: mail, html: null })).toBe(REPLY);
  });

  it.each([
    '-----Original Message-----',
    '-----Ursprüngliche Nachricht-----',
    '-------- Message d\'origine --------',
    '-----Mensaje original-----',
    '-----Messaggio originale-----',
    '-----Oorspronkelijk bericht-----',
    '-----Mensagem original-----',
    '-----Ursprungligt meddelande-----',
    '-----Wiadomość oryginalna-----',
    '-----Исходное сообщение-----',
    '-----元のメッセージ-----',
    '------------------ 原始邮件 ------------------',
    '---------- Forwarded message ---------',
    '-------- Weitergeleitete Nachricht --------',
  ])('separator %s', (separator) => {
    const mail = `${REPLY}\n\n${separator}\nQuoted body.\n`;
    expect(extractReply({ text: mail, html: null })).toBe(REPLY);
  });

  it.each([
    'Sent from my iPhone',
    'Von meinem iPhone gesendet',
    'Envoyé de mon iPhone',
    'Enviado desde mi iPhone',
    'Inviato da iPhone',
    'Verstuurd vanaf mijn iPhone',
    'Enviado do meu iPhone',
    'Skickat från min iPhone',
    'Wysłane z mojego iPhone’a',
    'Отправлено с iPhone',
    'iPhoneから送信',
    '发自我的iPhone',
    'Get Outlook for Android',
  ])('mobile signature %s', (signature) => {
    expect(extractReply({ text: `${REPLY}\n\n${signature}\n`, html: null })).toBe(REPLY);
  });
});
