import { createConnection } from 'node:net';

export { freePort } from '../../cli/temporal-server';

/** Whether something accepts TCP connections on 127.0.0.1:`port` now. */
export const listening = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
