// A small TCP proxy between the worker and Dovecot, for the network faults:
//
// - cut: the next connection that starts receiving a literal larger than
//   `minBytes` (the body of a big mail in a FETCH answer) is reset once
//   `afterBytes` of it have passed — the link dropping mid-download;
// - black hole: every open connection goes silent for good (nothing forwarded
//   either way, nothing closed: a NAT or firewall that lost its state), and new
//   connections are accepted but never answered, until `restore()`; after it,
//   new connections work again while the old ones stay dead, as they do on a
//   real network. Only the peer's own timeouts get it out.
// - hold: every open connection stalls (nothing forwarded, all of it kept)
//   until `release()`, when it flows again: a server or a link that stopped
//   answering for a while and then came back.
import net from 'node:net';

interface Link {
  client: net.Socket;
  server: net.Socket;
  dead: boolean;
}

export class TcpProxy {
  private readonly links = new Set<Link>();
  private cut: { minBytes: number; afterBytes: number; fired: (() => void) | null } | null = null;
  private holing = false;
  private constructor(
    private readonly srv: net.Server,
    readonly port: number,
  ) {}

  static async create(targetPort: number): Promise<TcpProxy> {
    const proxy: { p?: TcpProxy } = {};
    const srv = net.createServer((client) => proxy.p?.accept(client, targetPort));
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = srv.address();
    if (typeof addr !== 'object' || !addr) throw new Error('the proxy has no port');
    proxy.p = new TcpProxy(srv, addr.port);
    return proxy.p;
  }

  /** Resolves when a connection was cut mid-literal: a literal of minBytes or more once afterBytes of it passed, or a piece (BODY[]<offset>) of a mail downloaded in pieces, halfway, once the pieces reach afterBytes into it. */
  armCut(minBytes: number, afterBytes: number): Promise<void> {
    return new Promise((resolve) => {
      this.cut = { minBytes, afterBytes, fired: resolve };
    });
  }

  /** A cut armed but never fired (its phase ended) must not hit the next phase. */
  disarm(): void {
    this.cut = null;
  }

  blackHole(): void {
    this.holing = true;
    for (const l of this.links) this.silence(l);
  }

  restore(): void {
    this.holing = false;
  }

  hold(): void {
    for (const l of this.links) {
      l.client.pause();
      l.server.pause();
    }
  }

  release(): void {
    for (const l of this.links) {
      if (l.dead) continue;
      l.client.resume();
      l.server.resume();
    }
  }

  async close(): Promise<void> {
    for (const l of this.links) {
      l.client.destroy();
      l.server.destroy();
    }
    await new Promise<void>((r) => this.srv.close(() => r()));
  }

  private accept(client: net.Socket, targetPort: number): void {
    client.on('error', () => undefined);
    if (this.holing) {
      // Accepted by the kernel, never answered: the IMAP greeting never comes.
      client.pause();
      return;
    }
    const server = net.connect({ host: '127.0.0.1', port: targetPort });
    server.on('error', () => client.destroy());
    client.on('error', () => server.destroy());
    const link: Link = { client, server, dead: false };
    this.links.add(link);
    const forget = () => this.links.delete(link);
    // The worker giving up on a dead link frees the server side (a real server times out too).
    client.once('close', () => {
      server.destroy();
      forget();
    });
    server.once('close', () => {
      if (!link.dead) client.destroy();
      forget();
    });
    client.on('data', (d: Buffer) => {
      if (!link.dead) server.write(d);
    });
    let literal: { cutAt: number; passed: number } | null = null;
    let tail = '';
    server.on('data', (d: Buffer) => {
      if (link.dead) return;
      const cut = this.cut;
      if (cut) {
        if (!literal) {
          // An IMAP literal announces its size as {N}\r\n; look across chunk boundaries. A big mail comes
          // either as one literal (cut once afterBytes of it passed) or in pieces, BODY[]<offset> {N}
          // (cut halfway through the first piece that starts afterBytes or more into the mail).
          const text = tail + d.toString('latin1', 0, Math.min(d.length, 4096));
          const piece = /BODY\[\]<(\d+)>\s*\{(\d+)\}\r\n/.exec(text);
          const whole = /\{(\d+)\}\r\n/.exec(text);
          if (piece && Number(piece[1]) >= cut.afterBytes) literal = { cutAt: Math.max(1, Math.floor(Number(piece[2]) / 2)), passed: 0 };
          else if (!piece && whole && Number(whole[1]) >= cut.minBytes) literal = { cutAt: cut.afterBytes, passed: 0 };
          tail = d.toString('latin1', Math.max(0, d.length - 64));
        } else {
          literal.passed += d.length;
          if (literal.passed >= literal.cutAt) {
            this.cut = null;
            client.resetAndDestroy();
            server.destroy();
            cut.fired?.();
            return;
          }
        }
      }
      client.write(d);
    });
  }

  /** Nothing more crosses this link, and nothing closes it. */
  private silence(l: Link): void {
    l.dead = true;
    l.client.pause();
    l.server.pause();
  }
}
