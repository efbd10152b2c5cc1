// How long an IMAP server has owed an answer without a word: counted only while
// a command waits, from the last byte it sent or from when the wait began.
import { describe, expect, it } from 'vitest';
import { ServerSilence } from '../../../src/sources/imap/silence.js';

function setup() {
  let now = 1_000;
  let received = 0;
  const silence = new ServerSilence(
    () => received,
    () => now,
  );
  return { silence, advance: (ms: number) => (now += ms), receive: (bytes: number) => (received += bytes) };
}

describe('ServerSilence', () => {
  it('is 0 while no command waits, however quiet the connection is', () => {
    const { silence, advance } = setup();
    advance(60_000);
    expect(silence.silentMs()).toBe(0);
  });

  it('counts from when a command was sent, restarts at each byte received, and stops when it settles', async () => {
    const { silence, advance, receive } = setup();
    advance(30_000); // quiet on this side first: not the server's silence
    let answer!: () => void;
    const command = silence.track(new Promise<void>((resolve) => (answer = resolve)));
    advance(5_000);
    expect(silence.silentMs()).toBe(5_000);
    receive(100); // an answer streaming in
    advance(1_000);
    expect(silence.silentMs()).toBe(0); // the bytes were seen at this look: counting starts again here
    advance(16_000);
    expect(silence.silentMs()).toBe(16_000);
    answer();
    await command;
    expect(silence.silentMs()).toBe(0);
  });

  it('counts a failed command as settled, and hands the command back unchanged', async () => {
    const { silence, advance } = setup();
    const failing = silence.track(Promise.reject(new Error('connection lost')));
    await expect(failing).rejects.toThrow('connection lost');
    advance(20_000);
    expect(silence.silentMs()).toBe(0);
  });
});
