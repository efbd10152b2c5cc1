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
 * Only verbs of writing: "said:/says:" introduce quotes in ordinary prose
 * ("The log says:") far more often than in mail clients' attributions.
 */
export const ATTRIBUTION_END_MARKERS: readonly string[] = [
  // en
  'wrote', 'writes', 'wrote the following',
  // de
  'schrieb', 'geschrieben', 'schrieben sie',
  // fr
  'a écrit', 'écrit', 'a ecrit',
  // es
  'escribió', 'escribio', 'ha escrito',
  // it
  'ha scritto', 'scrisse',
  // nl
  'schreef', 'geschreven', 'het volgende geschreven',
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

/**
 * Words that cannot be the author of an attribution: pronouns and determiners
 * ("On 3 June I wrote:", "At 10:30 the display wrote:" are the customer's own
 * prose). "You" is absent on purpose: "At 6/16/2016 08:32 PM, you wrote:"
 * (Eudora) introduces the support team's own mail, which is history. Lower-case; name particles (de, da, das, du, van, von, der, la, le) and
 * pronouns that are also common names (He, Ma, An, Man, Lei, Han, Vi, Ela, Ella, Elle, Ty) are
 * deliberately absent.
 */
export const NON_AUTHOR_WORDS: ReadonlySet<string> = new Set([
  // en
  'i', 'we', 'she', 'they', 'it', 'me', 'us', 'him', 'her', 'them', 'someone', 'somebody',
  'the', 'a', 'my', 'our', 'your', 'his', 'their', 'its', 'this', 'that', 'also', 'then',
  'to', 'about', 'for', 'in', 'on', 'at', 'with',
  // de
  'ich', 'wir', 'er', 'es', 'mein', 'meine', 'unser', 'unsere', 'die',
  'ein', 'eine', 'auch', 'dann', 'ihnen', 'euch', 'uns',
  // fr
  'je', 'j\'ai', 'nous', 'il', 'on', 'ils', 'elles', 'mon', 'notre', 'votre', 'un', 'une',
  // es, it, pt
  'yo', 'nosotros', 'él', 'io', 'noi', 'eu', 'nós',
  // nl
  'ik', 'wij', 'hij', 'zij', 'het', 'een', 'mijn', 'ons',
  // sv, no, da
  'jag', 'jeg',
  // pl, ru, uk
  'ja', 'my', 'ona', 'я', 'мы', 'он', 'она', 'они',
]);

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

// --- phone and app signatures ----------------------------------------------
// Matched against a whole short line (edges, Markdown links, a trailing URL and
// a "please excuse typos" clause removed first; see isMobileSignature), so
// "Sent by DHL on 3 June" or "Från min sida är det okej" never match. Every
// pattern is anchored at both ends and made of literals and bounded,
// unambiguous repetitions.

/** Phones, tablets and their words in the supported languages (lower-case). */
const DEVICE_WORDS = [
  'iphone', 'ipad', 'ipod', 'android', 'samsung', 'galaxy', 'blackberry', 'huawei', 'xiaomi', 'pixel',
  'nokia', 'htc', 'sony', 'motorola', 'oneplus', 'oppo', 'windows phone', 'apple watch', 'mobile',
  'mobile device', 'mobile phone', 'phone', 'cell', 'cellphone', 'cell phone', 'smartphone', 'tablet',
  // de
  'mobilgerät', 'mobiltelefon', 'handy', 'telefon', 'android-mobiltelefon', 'android-gerät',
  // fr
  'téléphone', 'portable', 'tablette', 'mobile android',
  // es, pt
  'móvil', 'teléfono', 'celular', 'dispositivo móvil', 'tableta', 'telemóvel', 'telefone', 'dispositivo móvel',
  // it
  'cellulare', 'telefono', 'dispositivo mobile', 'dispositivo',
  // nl, sv
  'mobiel', 'telefoon', 'mobiele telefoon', 'mobil',
  // pl
  'telefonu', 'smartfona', 'smartfonu', 'urządzenia mobilnego', 'komórki', 'tabletu',
  // ru
  'мобильного', 'телефона', 'смартфона', 'мобильного телефона', 'планшета',
];

/** Mail apps whose footer names the app ("Sent from Mailbox", "Sent with Airmail"). */
const APP_WORDS = [
  'mail', 'windows mail', 'mail for windows', 'mailbox', 'yahoo mail', 'yahoo', 'outlook', 'outlook mobile',
  'gmail', 'airmail', 'spark', 'proton mail', 'protonmail', 'proton mail secure email', 'protonmail secure email', 'tutanota', 'blackberry', 'blackberry work',
  'k-9 mail', 'bluemail', 'aquamail', 'fairemail', 'edison mail', 'newton mail', 'canary mail', 'mobile',
  'my mobile', 'a mobile device', 'a mobile', 'a phone', 'mobile device', 'phone', 'samsung mail',
  'mail.ru', 'gmx', 'gmx mail', 'web.de', 'poczta', 'poczty',
];

/** Systems an app runs on ("… for iOS", "… on Android", "… for Windows 10"). */
const OS_WORDS = ['ios', 'android', 'iphone', 'ipad', 'windows', 'windows 10', 'windows 11', 'mac', 'macos', 'galaxy'];

function alternation(words: readonly string[]): string {
  return [...words].sort((a, b) => b.length - a.length).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

const DEVICE = alternation(DEVICE_WORDS);
const APP = alternation(APP_WORDS);
const OS = alternation(OS_WORDS);
/**
 * Words of prose that never follow "Sent from my <device>" in an app's footer
 * ("Sent from my phone on Monday", "Sent via mobile banking yesterday").
 */
const PROSE_WORDS = [
  'on', 'at', 'to', 'in', 'and', 'or', 'for', 'the', 'a', 'an', 'but', 'so', 'because', 'while', 'when', 'is',
  'was', 'it', 'that', 'with', 'of', 'from', 'by', 'this', 'last', 'next', 'yesterday', 'today', 'tomorrow',
  'am', 'um', 'und', 'gestern', 'heute', 'morgen', 'et', 'le', 'la', 'hier', 'y', 'el', 'ayer', 'hoy', 'ieri',
  'oggi', 'op', 'om', 'en', 'gisteren', 'vandaag', 'e', 'ontem', 'hoje', 'och', 'og', 'igår', 'idag', 'i',
  'wczoraj', 'dzisiaj', 'в', 'на', 'и', 'вчера', 'сегодня',
];
const NOT_PROSE = `(?!(?:${alternation(PROSE_WORDS)})(?: |$))`;
/** A device, possibly inflected (pl "iPhone'a"), then at most four model tokens ("Galaxy S5 Octacore"). */
const DEVICE_MODEL = `(?:${DEVICE})(?:['’]?a)?(?: ${NOT_PROSE}[\\p{L}\\p{N}+._-]{1,16}){0,4}`;
/** An app, optionally "for/on/pour/für/para/per/voor/för <OS>". */
const APP_ON = `(?:${APP})(?: (?:for|on|pour|sur|für|auf|para|en|em|per|su|voor|op|för|på|dla|na|для) (?:${OS}))?`;
/** Generic "Sent from my <1–5 tokens>" ("Sent from my TI-85", "… my Verizon Wireless 4G LTE smartphone"). */
const ANY_TOKENS = `${NOT_PROSE}[^ ]{1,24}(?: ${NOT_PROSE}[^ ]{1,24}){0,4}`;

function whole(source: string): RegExp {
  return new RegExp(`^(?:${source})$`, 'iu');
}

/**
 * Lines a phone or mail app appends ("Sent from my iPhone"), tested as whole
 * lines of at most MAX_MOBILE_SIGNATURE_CHARS. A matching line is dropped only
 * where the new text ends (text.ts), never used as a cut point.
 */
export const MOBILE_SIGNATURES: readonly RegExp[] = [
  // en
  whole(`sent from my ${ANY_TOKENS}`),
  whole(`sent (?:from|via|with|by|using) (?:my |a |an )?${DEVICE_MODEL}(?: (?:with|using|via) ${APP_ON})?`),
  whole(`from my ${DEVICE_MODEL}`),
  whole(`sent (?:from|via|with|using) ${APP_ON}`),
  whole(`[\\p{L}\\p{N}._-]{1,30} from mobile`),
  whole(`get (?:outlook|the outlook app) for (?:${OS})`),
  // de
  whole(`von meine[mr] (?:${DEVICE_MODEL}|${APP_ON}) gesendet`),
  whole(`gesendet (?:von|mit|vom) (?:meine[mr]? )?(?:${DEVICE_MODEL}|${APP_ON})`),
  whole(`diese nachricht wurde von meine[mr] ${DEVICE_MODEL}(?: mit ${APP_ON})? gesendet`),
  whole(`holen sie sich outlook für (?:${OS})`),
  // fr
  whole(`envoyé (?:de|depuis|avec|à partir de|à partir d'|à partir d’)(?: ?mon| ?ma| ?l'application| ?l’application)? ?(?:${DEVICE_MODEL}|${APP_ON})`),
  whole(`obtenir outlook pour (?:${OS})`),
  // es
  whole(`enviado (?:desde|con) (?:mi )?(?:${DEVICE_MODEL}|${APP_ON})`),
  whole(`obtener outlook para (?:${OS})`),
  // it
  whole(`inviato da(?:l mio| il mio| mio| un| una|ll'app|ll’app)? ?(?:${DEVICE_MODEL}|${APP_ON})`),
  whole(`scarica outlook per (?:${OS})`),
  // nl
  whole(`(?:verzonden|verstuurd) (?:met|vanaf|vanuit|van|via) (?:mijn )?(?:${DEVICE_MODEL}|${APP_ON})`),
  whole(`outlook voor (?:${OS}) downloaden`),
  // pt
  whole(`enviado (?:do|de|a partir do|a partir de|pelo) (?:meu |minha )?(?:${DEVICE_MODEL}|${APP_ON})`),
  whole(`obter o outlook para (?:${OS})`),
  // sv, no, da
  whole(`(?:skickat|sendt|skickad) (?:från|fra) (?:min |mitt |mi )?(?:${DEVICE_MODEL}|${APP_ON})`),
  whole(`(?:från|fra) min (?:${DEVICE_MODEL})`),
  // pl
  whole(`wysłan[eoy] (?:z|ze|przy pomocy|za pomocą) (?:mojego |mojej |aplikacji )?(?:${DEVICE_MODEL}|${APP_ON})`),
  // ru, uk
  whole(`(?:отправлено|надіслано) (?:с|со|из|з|із) (?:моего |мого |мобильной почты |мобільної пошти )?(?:${DEVICE_MODEL}|${APP_ON})`),
  // ja
  whole(`(?:iphone|ipad|android|my mobile|outlook|携帯|スマートフォン|モバイル)\\s?から送信`),
  whole(`[^ ]{1,30} ?から送信`),
  // zh
  whole(`(?:发自|發自|来自|來自)我的 ?[^ ]{1,30}(?: [^ ]{1,30}){0,2}`),
  whole(`(?:从|從)我的 ?[^ ]{1,30} ?(?:发送|傳送|發送)`),
];

/** Longer lines are never a phone or app signature. */
export const MAX_MOBILE_SIGNATURE_CHARS = 80;
