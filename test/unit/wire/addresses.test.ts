import { describe, expect, it } from 'vitest';
import { uniqueAddresses } from '../../../src/wire/addresses.js';
import { EmailAddressDirection as D } from '../../../src/wire/enums.js';

describe('uniqueAddresses', () => {
  it('keeps each (direction, email) once, at its first place, with its first name', () => {
    const list = [
      { email: 'a@example.com', name: 'First', direction: D.TO },
      { email: 'b@example.com', name: '', direction: D.CC },
      { email: 'a@example.com', name: 'Second', direction: D.TO },
      { email: 'b@example.com', name: 'Again', direction: D.CC },
    ];
    expect(uniqueAddresses(list)).toEqual([list[0], list[1]]);
  });

  it('keeps the same email in different directions', () => {
    const list = [
      { email: 'a@example.com', name: '', direction: D.FROM },
      { email: 'a@example.com', name: '', direction: D.REPLY_TO },
      { email: 'a@example.com', name: '', direction: D.BCC },
    ];
    expect(uniqueAddresses(list)).toEqual(list);
  });

  it('compares emails as given and leaves the input alone', () => {
    const list = [
      { email: 'a@example.com', direction: D.TO },
      { email: 'A@example.com', direction: D.TO },
      { email: 'a@example.com', direction: D.TO },
    ];
    const copy = structuredClone(list);
    expect(uniqueAddresses(list)).toEqual([list[0], list[1]]);
    expect(list).toEqual(copy);
    expect(uniqueAddresses([])).toEqual([]);
  });
});
