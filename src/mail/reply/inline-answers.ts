// Outlook desktop answers inside the quoted history. Outlook does not put the
// mail it answers into a blockquote: after its bordered "From:/Sent:" block
// the original's paragraphs simply follow, and a customer who answers "inline"
// types between them. Outlook marks such answers in two ways, both read here:
// the "Preface comments with [Name]" option writes a bold-italic "[Tom Baker]"
// before each answer, and answers are written in the sender's reply font,
// usually a colour of its own (the same colour as the new text above the
// history, e.g. Outlook's #1F497D). Only the first quoted mail (up to the next
// header block) is looked at: older rounds of inline answers are history.
// The result is the set of block elements to leave unquoted; html.ts quotes
// everything else after the history start (`quoteFollowingExcept`).

import { Element, Text } from 'domhandler';
import type { ChildNode, ParentNode } from 'domhandler';
import { rewriteFollowing, setChildren } from './dom.js';
import { headerKindOf } from './patterns.js';
import { prefaceName } from './preface.js';

const BLOCK_TAGS = new Set([
  'p', 'div', 'li', 'td', 'th', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'pre', 'blockquote', 'table', 'tr', 'ul', 'ol', 'body',
]);
/** Colours that are the default text colour, not a mark (lower-case, blanks removed). */
const DEFAULT_COLOURS = new Set([
  '', 'black', '#000', '#000000', 'windowtext', 'auto', 'inherit', 'initial', 'currentcolor', 'rgb(0,0,0)', '#212121', '#222222', '#222',
]);
/** A block this short that starts with a preface has not reached its answer yet. */
const MAX_PREFACE_BLOCK_CHARS = 44;
/** Characters of intro text gathered to find its colour; beyond this the sample is enough. */
const MAX_SAMPLE_CHARS = 20_000;

interface Block {
  el: Element;
  chars: number;
  /** The one colour of all its text, '' for the default colour, null when mixed. */
  colour: string | null;
  /** Starts an answer with Outlook's bold or italic "[Name]" preface. */
  preface: boolean;
  /** Text of its first line, for spotting the next header block. */
  head: string;
  /** Inside the element where the history starts, or inside a later history mark. */
  inStart: boolean;
  inMark: boolean;
}

function styleOf(el: Element): string {
  return (el.attribs['style'] ?? '').toLowerCase().replace(/\s+/g, '');
}

/** The text colour an element sets, normalised; undefined when it sets none. */
function colourOf(el: Element): string | undefined {
  const font = el.name === 'font' ? el.attribs['color'] : undefined;
  const m = /(?:^|;)color:([^;!]{1,40})/.exec(styleOf(el));
  const raw = m?.[1] ?? font?.toLowerCase().replace(/\s+/g, '');
  if (raw === undefined) return undefined;
  return DEFAULT_COLOURS.has(raw) ? '' : raw;
}

function emphasises(el: Element): boolean {
  if (el.name === 'b' || el.name === 'strong' || el.name === 'i' || el.name === 'em') return true;
  const style = styleOf(el);
  return style.includes('font-weight:bold') || style.includes('font-weight:700') || style.includes('font-style:italic');
}

function isPreface(data: string, emphasised: boolean): boolean {
  return emphasised && prefaceName(data) !== null;
}

interface Frame {
  node: ChildNode;
  colour: string;
  emphasised: boolean;
  block: Block | null;
  inHistory: boolean;
  inStart: boolean;
  inMark: boolean;
}

/**
 * Blocks with visible text in document order, split at the history start.
 * `budget` bounds the walk (it shares the caller's node cap).
 */
function collectBlocks(
  root: ParentNode,
  historyStart: Element,
  isHistoryMark: (el: Element) => boolean,
  budget: { left: number },
): { intro: Block[]; history: Block[] } {
  const intro: Block[] = [];
  const history: Block[] = [];
  const stack: Frame[] = [];
  for (let k = root.children.length - 1; k >= 0; k--) {
    const node = root.children[k] as ChildNode;
    stack.push({ node, colour: '', emphasised: false, block: null, inHistory: false, inStart: false, inMark: false });
  }
  let seenHistory = false;
  while (stack.length > 0 && budget.left-- > 0) {
    const f = stack.pop() as Frame;
    const { node } = f;
    if (node instanceof Text) {
      const data = node.data;
      if (f.block === null || !/\S/.test(data)) continue;
      const b = f.block;
      if (b.chars === 0) {
        b.colour = f.colour;
        b.preface = isPreface(data, f.emphasised);
        b.head = data.trim().slice(0, 200);
        (f.inHistory ? history : intro).push(b);
      } else if (b.colour !== f.colour) {
        // The preface may be in another colour than the answer after it; else the block is mixed.
        b.colour = b.preface && b.chars <= MAX_PREFACE_BLOCK_CHARS ? f.colour : null;
      }
      b.chars += data.length;
      continue;
    }
    if (!(node instanceof Element)) continue;
    if (node === historyStart) seenHistory = true;
    const inHistory = f.inHistory || seenHistory;
    const inStart = f.inStart || node === historyStart;
    const inMark = f.inMark || (inHistory && !inStart && isHistoryMark(node));
    const colour = colourOf(node) ?? f.colour;
    const block = BLOCK_TAGS.has(node.name)
      ? { el: node, chars: 0, colour: '', preface: false, head: '', inStart, inMark }
      : f.block;
    const emphasised = BLOCK_TAGS.has(node.name) ? emphasises(node) : f.emphasised || emphasises(node);
    for (let k = node.children.length - 1; k >= 0; k--) {
      stack.push({ node: node.children[k] as ChildNode, colour, emphasised, block, inHistory, inStart, inMark });
    }
  }
  return { intro, history };
}

/** The colour most of the new text above the history is written in, if not the default one. */
function introColour(intro: readonly Block[]): string | null {
  const chars = new Map<string, number>();
  let total = 0;
  for (const b of intro) {
    if (b.colour === null) continue;
    chars.set(b.colour, (chars.get(b.colour) ?? 0) + b.chars);
    total += b.chars;
    if (total > MAX_SAMPLE_CHARS) break;
  }
  let best: string | null = null;
  let most = 0;
  for (const [c, count] of chars) {
    if (count > most) {
      best = c;
      most = count;
    }
  }
  return best !== null && best !== '' && most * 5 >= total * 3 ? best : null;
}

/** How far from "personal-reply" the braces of its style rule may be. */
const MAX_RULE_CHARS = 600;

/**
 * The colour of Outlook's reply style (`mso-style-type:personal-reply` in the
 * mail's style sheet), the font Outlook gives everything its user types in a
 * reply; null when there is none or it is the default colour.
 */
export function replyStyleColour(html: string): string | null {
  const at = html.indexOf('mso-style-type:personal-reply');
  if (at < 0) return null;
  const open = html.lastIndexOf('{', at);
  const close = html.indexOf('}', at);
  if (open < 0 || close < 0 || at - open > MAX_RULE_CHARS || close - at > MAX_RULE_CHARS) return null;
  const rule = html.slice(open + 1, close).toLowerCase().replace(/\s+/g, '');
  const raw = /(?:^|;)color:([^;!]{1,40})/.exec(rule)?.[1];
  return raw === undefined || DEFAULT_COLOURS.has(raw) ? null : raw;
}

/** Does this block start another quoted mail (a history mark, or a "From:" header line)? */
function startsNextMail(b: Block): boolean {
  return b.inMark || (headerKindOf(b.head) === 'from' && b.head.length < 200);
}

export interface InlineAnswers {
  /** Blocks of the first quoted mail that are answers, to leave unquoted. */
  answers: Set<Element>;
  /** The blocks of its header ("From: … Sent: …"), to drop when there are answers. */
  header: Element[];
}

/**
 * The blocks of the first quoted mail that are answers written inline, or an
 * empty set. `isHistoryMark` tells an element that starts quoted history
 * (html.ts's `startsHistory`), so the scan stops at the next quoted mail;
 * `styleColour` is `replyStyleColour` of the raw HTML (its style sheet is
 * gone from the parsed document).
 */
export function findInlineAnswers(
  root: ParentNode,
  historyStart: Element,
  isHistoryMark: (el: Element) => boolean,
  budget: { left: number },
  styleColour: string | null = null,
): InlineAnswers {
  const { intro, history } = collectBlocks(root, historyStart, isHistoryMark, budget);
  const answers = new Set<Element>();
  // The colour the new text is in: Outlook's reply style says it, else the text above shows it.
  const mine = styleColour ?? introColour(intro);
  // Skip the header block itself: inside the history start element, or right
  // after it (new Outlook's empty "appendonsend" before "divRplyFwdMsg", Zimbra's rule).
  let k = 0;
  const header: Element[] = [];
  for (let b = history[0]; b !== undefined && (b.inStart || b.inMark || headerKindOf(b.head) !== null); b = history[++k]) header.push(b.el);
  // Answers by colour only when the quoted mail itself is in another colour:
  // between two Outlooks with the same reply colour, colour tells nothing.
  const byColour = mine !== null && k < history.length && history[k]?.colour !== mine;
  let quotedSeen = false;
  let answerColour: string | null = null;
  for (; k < history.length; k++) {
    const b = history[k] as Block;
    if (startsNextMail(b)) break;
    const coloured = byColour && quotedSeen && b.colour === mine;
    const continues = answerColour !== null && b.colour === answerColour;
    if (b.preface || coloured || continues) {
      answers.add(b.el);
      answerColour = b.colour !== null && b.colour !== '' ? b.colour : null;
    } else {
      quotedSeen = true;
      answerColour = null;
    }
  }
  // Blocks nested in an answer block are part of it.
  for (const el of [...answers]) {
    for (let p = el.parent; p !== null; p = p.parent) {
      if (p instanceof Element && answers.has(p)) {
        answers.delete(el);
        break;
      }
    }
  }
  return { answers, header: answers.size > 0 ? header : [] };
}

/** Most nodes looked at to decide that a node shows no text (beyond that it counts as text). */
const MAX_BLANK_SCAN = 200;

/** Does the node show no text at all (only blanks, no-break spaces, `<br>`, empty elements)? */
function isBlank(node: ChildNode): boolean {
  const stack: ChildNode[] = [node];
  for (let seen = 0; stack.length > 0; seen++) {
    if (seen > MAX_BLANK_SCAN) return false;
    const n = stack.pop() as ChildNode;
    if (n instanceof Text && /\S/.test(n.data)) return false;
    if (n instanceof Element) {
      if (n.name === 'img' || n.name === 'hr') return false;
      for (const c of n.children) stack.push(c);
    }
  }
  return true;
}

/**
 * Quote `from` and everything after it in document order, except the `keep`
 * elements, which stay as the sender's own text between the quotes.
 * Recursion only descends into ancestors of kept elements, whose depth the
 * caller has already capped.
 */
export function quoteFollowingExcept(from: ChildNode, keep: ReadonlySet<Element>): void {
  const holds = new Set<ParentNode>();
  for (const el of keep) {
    for (let p = el.parent; p !== null && !holds.has(p); p = p.parent) holds.add(p);
  }
  const wrap = (nodes: readonly ChildNode[]): ChildNode[] => {
    const out: ChildNode[] = [];
    let run: ChildNode[] = [];
    const flush = (): void => {
      // Blank nodes at either end of a run (Outlook's "&nbsp;" paragraphs, the
      // emptied header) stay outside the quote, so they render as blank lines, not ">".
      let a = 0;
      let b = run.length;
      while (a < b && isBlank(run[a] as ChildNode)) out.push(run[a++] as ChildNode);
      while (b > a && isBlank(run[b - 1] as ChildNode)) b--;
      if (b > a) {
        const bq = new Element('blockquote', {});
        setChildren(bq, run.slice(a, b));
        out.push(bq);
      }
      for (let k = b; k < run.length; k++) out.push(run[k] as ChildNode);
      run = [];
    };
    for (const c of nodes) {
      if (c instanceof Element && keep.has(c)) {
        flush();
        out.push(c);
      } else if (c instanceof Element && holds.has(c)) {
        flush();
        setChildren(c, wrap(c.children));
        out.push(c);
      } else {
        run.push(c);
      }
    }
    flush();
    return out;
  };
  rewriteFollowing(from, wrap);
}
