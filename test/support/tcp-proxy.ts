import net from 'node:net';

/** A TCP proxy in front of a server, which a test can cut to play an outage. */
export interface TcpProxy {
  /** The port the proxy listens on (127.0.0.1). */
  port: number;
  /** Drops every connection and stops listening: new connections are refused (a server that is down). */
  refuse(): Promise<void>;
  /** Drops every connection; new ones are accepted and never answered (a server that went silent). */
  blackHole(): Promise<void>;
  /** Forwards connections again. */
  restore(): Promise<void>;
  /** Drops every connection and stops listening for good. */
  close(): Promise<void>;
}

/**
 * Starts a TCP proxy on a free port of 127.0.0.1 that forwards every connection to
 * `targetHost:targetPort`.
 */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let mode: 'forward' | 'black-hole' = 'forward';
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    if (mode === 'black-hole') return; // accepted, never answered
    const upstream = net.connect(targetPort, targetHost);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    refuse: async () => {
      const closed = stopListening();
      dropAll();
      await closed;
    },
    blackHole: async () => {
      mode = 'black-hole';
      dropAll();
      if (!server.listening) await listen(port);
    },
    restore: async () => {
      mode = 'forward';
      dropAll();
      if (!server.listening) await listen(port);
    },
    close: async () => {
      const closed = stopListening();
      dropAll();
      await closed;
    },
  };
}
