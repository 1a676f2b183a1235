import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { LoopTurns } from '../../src/jobs/loop-turns.js';

/** Holds the event loop for `ms`, as a big body's parse and checks do. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('Big work takes the event loop a turn at a time', function () {
  it('gives each waiter a turn of its own', async function () {
    const turns = new LoopTurns();
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const seen = await Promise.all(Array.from({ length: 5 }, () => turns.next().then(() => turn)));
    ticking = false;
    assert.equal(new Set(seen).size, 5, `the turns each waiter resolved in: ${seen.join(', ')}`);
  });

  it('serves a socket that has data between two pieces of work, not after all of them', async function () {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const [accepted] = (await once(server, 'connection')) as [Socket];
    try {
      const turns = new LoopTurns();
      const order: string[] = [];
      accepted.once('data', () => order.push('data'));
      const pieces = Array.from({ length: 5 }, (_, i) =>
        turns.next().then(() => {
          // The data is sent during the first piece: it is read before the second.
          if (i === 0) client.write('ping');
          busyFor(20);
          order.push(`piece ${i}`);
        }),
      );
      await Promise.all(pieces);
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(order.indexOf('data') >= 0 && order.indexOf('data') < order.length - 1, order.join(', '));
      assert.ok(order.indexOf('data') <= 2, `read within a piece or two of its arrival: ${order.join(', ')}`);
    } finally {
      client.destroy();
      accepted.destroy();
      server.close();
    }
  });
});
