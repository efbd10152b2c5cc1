// A list page's byte budget (src/conversations/list-budget.ts): bodies stay
// whole while they fit, later large ones are cut (never inside a tag, an
// entity or a surrogate pair) and marked; small ones after a cut stay whole.
import { describe, expect, it } from 'vitest';
import type { DTO_ticket_conversation } from '../../../src/conversations/dto.js';
import { planPage, truncateBody, wasCut } from '../../../src/conversations/list-budget.js';

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

describe('planPage', () => {
  const size = (id: number, bytes: number) => ({ id, bytes, html_chars: bytes, text_chars: 0, blocks: 1 });

  it('keeps bodies whole, oldest first, within the budget; cuts the later large ones; keeps small ones after a cut', () => {
    const whole = planPage([1, 2, 3, 4], [size(1, 30_000), size(2, 30_000), size(3, 500), size(4, 5_000)], 50_000);
    expect([...whole]).toEqual([1, 3, 4]);
  });

  it('keeps a page within its budget whole, and cuts a single body over it', () => {
    expect([...planPage([1, 2], [size(1, 100), size(2, 200)], 10_000)]).toEqual([1, 2]);
    expect([...planPage([1], [size(1, 2_000_000)], 1_000_000)]).toEqual([]);
  });
});

describe('wasCut', () => {
  it('compares what was shown with the stored sizes', () => {
    const c = conversation(1, '<p>hello</p>', 'hello');
    expect(wasCut({ id: 1, bytes: 0, html_chars: 12, text_chars: 5, blocks: 1 }, c)).toBe(false);
    expect(wasCut({ id: 1, bytes: 0, html_chars: 9000, text_chars: 5, blocks: 1 }, c)).toBe(true);
    expect(wasCut({ id: 1, bytes: 0, html_chars: 12, text_chars: 5, blocks: 7 }, c)).toBe(true);
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
