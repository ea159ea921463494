import net from 'node:net';

/**
 * A TCP proxy on loopback that a test can cut (every connection reset, new ones refused) and
 * restore on the same port: a database that becomes unreachable and comes back.
 */
export async function cuttableProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const s = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        for (const [a, b] of [
          [client, upstream],
          [upstream, client],
        ] as const) {
          sockets.add(a);
          // Either side's error or end closes both: the connection is gone, as a cut one is.
          a.on('error', () => a.destroy());
          a.on('close', () => {
            sockets.delete(a);
            b.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve((s.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(0);
  return {
    port,
    async cut(): Promise<void> {
      const closed = new Promise((r) => server?.close(r));
      for (const s of sockets) s.resetAndDestroy();
      await closed;
      server = undefined;
    },
    async restore(): Promise<void> {
      await listen(port);
    },
    async close(): Promise<void> {
      if (server) await this.cut();
    },
  };
}
