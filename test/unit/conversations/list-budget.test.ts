// A list page's byte budget (src/conversations/list-budget.ts): bodies stay
// whole while they fit, later large ones are cut (never inside a tag, an
// entity or a surrogate pair) and marked; small ones after a cut still fit.
import { describe, expect, it } from 'vitest';
import type { DTO_ticket_conversation } from '../../../src/conversations/dto.js';
import { bodyBytes, fitPage, truncateBody } from '../../../src/conversations/list-budget.js';

function conversation(id: number, html: string, text = ''): DTO_ticket_conversation {
  return {
    id,
    ticket_id: 1,
    type: 3,
    sys_status: null,
    created_by: { id: 1, label: 'Agent', email: 'agent@example.test', profile_pic: null },
    last_updated_by: { id: 1, label: 'Agent', email: 'agent@example.test', profile_pic: null },
    requester: null,
    last_message_extracted: text,
    sys_attachments: [],
    created: '2026-12-01T10:00:00.000Z',
    last_updated: '2026-12-01T10:00:00.000Z',
    email_addresses: [],
    sys_content_rich: {
      plain_preview: text.slice(0, 10),
      html,
      editorjs: { time: 0, version: '2.28.2', blocks: [{ id: 'b0', type: 'paragraph', data: { text: html } }] },
      read_minutes: 1,
    },
  };
}

describe('fitPage', () => {
  it('keeps bodies whole within the budget, cuts the later large ones, and lets a small one after a cut through', () => {
    const big = '<p>' + 'a'.repeat(20_000) + '</p>';
    const page = [conversation(1, big), conversation(2, big), conversation(3, '<p>short</p>')];
    const out = fitPage(page, 50_000);
    expect(out[0]).toBe(page[0]);
    expect(out[1]!.content_truncated).toBe(true);
    expect(out[1]!.sys_content_rich.editorjs.blocks).toEqual([]);
    expect(out[2]).toBe(page[2]);
    expect(out.reduce((n, c) => n + bodyBytes(c), 0)).toBeLessThan(50_000);
  });

  it('leaves a page within its budget untouched', () => {
    const page = [conversation(1, '<p>a</p>'), conversation(2, '<p>b</p>')];
    expect(fitPage(page, 10_000)).toEqual(page);
  });
});

describe('truncateBody', () => {
  it('never cuts inside a tag, an entity or a surrogate pair', () => {
    const tag = truncateBody(conversation(1, 'x'.repeat(95) + '<a href="https://example.com">link</a>'), 100);
    expect(tag.sys_content_rich.html).toBe('x'.repeat(95));
    const entity = truncateBody(conversation(1, 'x'.repeat(97) + '&amp;yyyy'), 100);
    expect(entity.sys_content_rich.html).toBe('x'.repeat(97));
    const emoji = truncateBody(conversation(1, '<p>a</p>', 'x'.repeat(99) + '😀 and more'), 100);
    expect(emoji.last_message_extracted).toBe('x'.repeat(99));
    expect(emoji.content_truncated).toBe(true);
  });

  it('returns a body that needs no cut as it is, unmarked', () => {
    const c = conversation(1, '<p>hello</p>', 'hello');
    expect(truncateBody(c, 4096)).toBe(c);
  });
});
