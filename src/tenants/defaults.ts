// What every tenant starts with (PRODUCT.md "Shapes"): the statuses new, open,
// pending, solved, closed, and the system user "Mailroom" that authors ingested mail.

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

export function slugProblem(slug: string): string | null {
  if (slug.length < 2) return 'must be at least 2 characters';
  if (slug.length > 63) return 'must be at most 63 characters';
  if (!SLUG_PATTERN.test(slug)) return 'may only contain a-z, 0-9 and inner dashes';
  return null;
}

export const DEFAULT_STATUSES = [
  { key: 'new', label: 'New', bg_color: '#dbeafe', text_color: '#1e3a8a', is_closed: false },
  { key: 'open', label: 'Open', bg_color: '#fee2e2', text_color: '#7f1d1d', is_closed: false },
  { key: 'pending', label: 'Pending', bg_color: '#fef3c7', text_color: '#78350f', is_closed: false },
  { key: 'solved', label: 'Solved', bg_color: '#dcfce7', text_color: '#14532d', is_closed: true },
  { key: 'closed', label: 'Closed', bg_color: '#e5e7eb', text_color: '#111827', is_closed: true },
] as const;

export const SYSTEM_USER = { name: 'Mailroom', email: 'mailroom@system.invalid' } as const;
