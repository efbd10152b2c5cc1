// Per-language word tables for reply extraction: how mail clients introduce
// quoted history ("On … wrote:"), label reply header blocks ("From:/Sent:"),
// separate forwarded or original messages, and sign mail sent from phones.
// Kept as data (no logic beyond building lookup structures) so that adding a
// language is a table edit, not a code change. All matching done with these
// tables is literal or anchored: no pattern here can backtrack on long input.

/** Words that open an attribution line, compared lower-case against the line start. */
export const ATTRIBUTION_OPENERS: readonly string[] = [
  // en
  'on', 'at', 'in message',
  // de
  'am',
  // fr
  'le',
  // es
  'el', 'el día',
  // it
  'il', 'il giorno',
  // nl
  'op',
  // pt
  'em', 'no dia',
  // sv, no, da
  'den', 'på',
  // pl, cs, sk
  'dnia', 'w dniu', 'dňa', 'dne',
  // zh (Apple Mail, Thunderbird)
  '在', '於',
];

/**
 * Verbs that end an attribution line ("… wrote:"), lower-case. Latin and
 * Cyrillic entries must sit after a word boundary; CJK entries may follow anything.
 */
export const ATTRIBUTION_END_MARKERS: readonly string[] = [
  // en
  'wrote', 'writes', 'said', 'says', 'wrote the following',
  // de
  'schrieb', 'geschrieben', 'schrieben sie',
  // fr
  'a écrit', 'écrit', 'nous a dit', 'a ecrit',
  // es
  'escribió', 'escribio', 'ha escrito',
  // it
  'ha scritto', 'scrisse',
  // nl
  'schreef', 'geschreven',
  // pt
  'escreveu',
  // sv, no, da
  'skrev', 'skriver',
  // pl
  'napisał(a)', 'napisał', 'napisała', 'pisze',
  // cs
  'napsal(a)', 'napsal', 'napsala',
  // ru, uk
  'написал(а)', 'написал', 'написала', 'пишет', 'пише', 'написав',
  // tr, fi
  'yazdı', 'kirjoitti',
  // ja, zh (no word boundary needed)
  'のメール', '書きました', '写道', '寫道',
];

/** Verbs that sit inside an attribution before the author ("Am … schrieb Max <m@x>:"). */
export const ATTRIBUTION_MID_MARKERS: readonly string[] = [
  ' schrieb ', ' schreef ', ' skrev ', ' escribió ', ' escreveu ', ' a écrit ', ' ha scritto ',
  ' wrote ', ' napisał(a) ', ' написал ', ' написал(а) ',
];

/** "Max <m@x> schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:" (Gmail, author first). */
export const ATTRIBUTION_AUTHOR_FIRST: readonly string[] = [
  ' schrieb am ', ' wrote on ', ' a écrit le ', ' escribió el ', ' ha scritto il ', ' schreef op ',
];

/** Tokens that mark a line as an attribution when it also carries a date. */
export const ATTRIBUTION_TOKENS: readonly string[] = ['пользователь', ' via '];

export type HeaderKind = 'from' | 'date' | 'to' | 'cc' | 'subject' | 'replyTo';

/** Localized labels of a reply/forward header block (Outlook, Gmail, Apple, Thunderbird). */
const HEADER_KEYS: Record<HeaderKind, readonly string[]> = {
  from: [
    'from', 'von', 'de', 'expéditeur', 'remitente', 'da', 'mittente', 'van', 'afzender', 'från',
    'avsändare', 'fra', 'od', 'nadawca', 'от', 'отправитель', 'від', 'lähettäjä', 'kimden',
    '发件人', '寄件者', '寄件人', '差出人', '送信者',
  ],
  date: [
    'sent', 'date', 'gesendet', 'datum', 'envoyé', 'envoyé le', 'enviado', 'enviada em', 'enviado em',
    'fecha', 'inviato', 'data', 'verzonden', 'verstuurd', 'skickat', 'sendt', 'wysłano', 'wysłane',
    'отправлено', 'дата', 'надіслано', 'lähetetty', 'tarih', 'gönderildi',
    '发送时间', '日期', '時間', '送信日時', '日時', '傳送時間',
  ],
  to: [
    'to', 'an', 'à', 'a', 'para', 'aan', 'till', 'til', 'do', 'кому', 'komu', 'vastaanottaja', 'kime',
    '收件人', '收件者', '宛先',
  ],
  cc: ['cc', 'kopie', 'copie', 'copia', 'cc.', 'kopia', 'копия', 'копія', '抄送', '副本'],
  subject: [
    'subject', 'betreff', 'objet', 'asunto', 'assunto', 'oggetto', 'onderwerp', 'ämne', 'emne', 'temat',
    'тема', 'aihe', 'konu', '主题', '主旨', '件名',
  ],
  replyTo: [
    'reply-to', 'antwort an', 'répondre à', 'responder a', 'risposta', 'rispondi a',
    'beantwoorden - aan', 'svara till', 'odpowiedź do', 'ответить',
  ],
};

const HEADER_KEY_KIND = new Map<string, HeaderKind>();
for (const [kind, keys] of Object.entries(HEADER_KEYS) as [HeaderKind, readonly string[]][]) {
  for (const key of keys) HEADER_KEY_KIND.set(key, kind);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// One anchored alternation of literals, longest first; `[\s*]*` between the
// label and the colon allows Markdown bold ("*From:*") and French spacing ("De :").
const HEADER_LINE = new RegExp(
  `^[\\s*]*(${[...HEADER_KEY_KIND.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|')})[\\s*]*[:：]`,
  'iu',
);

/** Which header label a line starts with (`From:`, `Gesendet:`, …), or null. */
export function headerKindOf(line: string): HeaderKind | null {
  const m = HEADER_LINE.exec(line);
  const key = m?.[1];
  return key === undefined ? null : (HEADER_KEY_KIND.get(key.toLowerCase()) ?? null);
}

/**
 * Core phrases of separator lines before an original or forwarded message,
 * lower-case, compared after dashes, asterisks, blanks and a trailing colon are
 * stripped ("-----Original Message-----" → "original message").
 */
export const SEPARATOR_PHRASES: ReadonlySet<string> = new Set([
  // en
  'original message', 'forwarded message', 'begin forwarded message', 'reply message',
  'forwarded message follows', 'message forwarded',
  // de
  'ursprüngliche nachricht', 'original-nachricht', 'weitergeleitete nachricht',
  'anfang der weitergeleiteten nachricht', 'ursprungliche nachricht',
  // fr
  'message d\'origine', 'message original', 'message transféré', 'début du message transféré',
  'début du message réexpédié', 'message réexpédié',
  // es
  'mensaje original', 'mensaje reenviado', 'inicio del mensaje reenviado',
  // it
  'messaggio originale', 'messaggio inoltrato', 'inizio messaggio inoltrato',
  // nl
  'oorspronkelijk bericht', 'origineel bericht', 'doorgestuurd bericht', 'begin doorgestuurd bericht',
  // pt
  'mensagem original', 'mensagem encaminhada', 'início da mensagem reencaminhada',
  'início da mensagem encaminhada',
  // sv, no, da
  'ursprungligt meddelande', 'vidarebefordrat meddelande', 'opprinnelig melding',
  'videresendt melding', 'oprindelig meddelelse', 'videresendt meddelelse',
  // pl
  'wiadomość oryginalna', 'oryginalna wiadomość', 'przekazana wiadomość', 'początek przekazywanej wiadomości',
  // ru, uk
  'исходное сообщение', 'пересылаемое сообщение', 'пересланное сообщение', 'начало переадресованного сообщения',
  'оригінальне повідомлення', 'переслане повідомлення',
  // ja
  '元のメッセージ', '転送されたメッセージ', '転送メッセージ', 'オリジナルメッセージ',
  // zh
  '原始邮件', '原始郵件', '转发的邮件', '轉寄的郵件', '原始信件', '转发邮件',
]);

/**
 * Lines a phone or mail app appends ("Sent from my iPhone"), as anchored
 * prefixes tested against a short (≤ 120 chars) line. Matched lines are
 * dropped wherever they are, never used as a cut point.
 */
export const MOBILE_SIGNATURES: readonly RegExp[] = [
  // en
  /^sent (?:from|via|with|by|using) \S/i,
  /^\S+ from mobile\.?$/i,
  /^(?:sent )?from my (?:iphone|ipad|ipod|android|mobile|phone|cell|smartphone|samsung|galaxy|blackberry|htc|huawei|pixel|nokia|sony)/i,
  /^get outlook for /i,
  /^sent from outlook/i,
  // fr
  /^envoyé (?:depuis|de|avec|à partir de) (?:mon|ma|yahoo|l'application|outlook|un|iphone|android)/i,
  /^obtenir outlook pour /i,
  // de
  /^von meinem .{1,60} gesendet/i,
  /^gesendet (?:von|mit|vom) (?:meinem|meiner|mein|iphone|android|outlook|yahoo)/i,
  /^diese nachricht wurde von .{1,80} gesendet/i,
  /^holen sie sich outlook für /i,
  // es
  /^enviado desde (?:mi|yahoo|outlook|iphone|android)/i,
  /^obtener outlook para /i,
  // it
  /^inviato da(?:l mio| un)? (?:iphone|ipad|android|smartphone|cellulare|telefono|dispositivo|outlook|yahoo|libero|samsung|galaxy|huawei|xiaomi|mobile)/i,
  /^scarica outlook per /i,
  // nl
  /^verzonden (?:met|vanaf|vanuit|van mijn) /i,
  /^verstuurd (?:vanaf|met|van) /i,
  /^outlook voor (?:ios|android) downloaden/i,
  // pt
  /^enviado (?:do|de|a partir do) (?:meu|minha|iphone|android|yahoo|outlook)/i,
  /^obter o outlook para /i,
  // sv, no, da
  /^skickat från (?:min|mitt|outlook|yahoo|iphone|android)/i,
  /^från min /i,
  /^sendt fra (?:min|mit|outlook|yahoo|iphone|android)/i,
  // pl
  /^wysłan[eoy] (?:z|ze|przy pomocy) (?:mojego|mojej|iphone|telefonu|urządzenia|outlook|aplikacji|android)/i,
  // ru, uk
  /^отправлено (?:с|со|из) /i,
  /^надіслано (?:з|із) /i,
  // ja
  /^(?:iphone|ipad|android|my mobile|outlook|携帯)\s?から送信/i,
  /^\S{1,30}から送信$/,
  // zh
  /^(?:发自|發自|来自|來自)我的/,
  /^从我的.{1,30}发送$/,
  /^從我的.{1,30}傳送$/,
];
