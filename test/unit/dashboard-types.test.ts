// The dashboard (ui/) is type-checked against the DOM's types with its own tsconfig: the root one, which `npm test`
// checks first, leaves it out so that Node code never sees the DOM's globals.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the dashboard sources', () => {
  it('type-check with ui/tsconfig.json', function () {
    this.timeout(120_000);
    const tsc = spawnSync(`${root}node_modules/.bin/tsc`, ['--noEmit', '-p', `${root}ui`], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  });
});
