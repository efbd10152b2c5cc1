// How long a sync's IMAP server has owed an answer without saying anything.
// The session counts the commands it has sent and not yet seen settle; the
// server "says something" whenever imapflow's count of bytes received moves
// (a FETCH answer streaming in is not silence, however long it takes). Pure
// bookkeeping: the byte count and the clock are passed in, and whoever asks
// (the sync, about once a second) is the timer.
export class ServerSilence {
  private owed = 0;
  private since: number;
  private lastReceived: number;

  constructor(
    private readonly received: () => number,
    private readonly now: () => number = Date.now,
  ) {
    this.since = now();
    this.lastReceived = received();
  }

  /** `command` is sent: the server owes an answer until it settles. Returns it unchanged. */
  track<T>(command: Promise<T>): Promise<T> {
    if (this.owed === 0) this.since = this.now(); // the quiet before was this side's
    this.owed += 1;
    const settled = () => {
      this.owed -= 1;
    };
    command.then(settled, settled);
    return command;
  }

  /** Milliseconds since the server last said something while it owed an answer; 0 when it owes none. */
  silentMs(): number {
    const received = this.received();
    const now = this.now();
    if (received !== this.lastReceived) {
      this.lastReceived = received;
      this.since = now;
    }
    return this.owed > 0 ? now - this.since : 0;
  }
}
