// The backlog chart's scales (bench/growth-chart.ts): sizes on a log axis, figures on a linear one from zero.
import assert from 'node:assert/strict';
import { growthChart, linearScale, logScale, niceMax } from '../../bench/growth-chart.js';
import type { BacklogPoint } from '../../bench/results.js';

describe('The backlog chart places each figure against its backlog size', function () {
  it('puts sizes on a log scale: 10,000 halfway between 1,000 and 100,000', function () {
    const x = logScale(1000, 100_000, 50, 250);
    assert.equal(x(1000), 50);
    assert.equal(x(100_000), 250);
    assert.ok(Math.abs(x(10_000) - 150) < 1e-9);
    assert.equal(logScale(1000, 1000, 50, 250)(1000), 150, 'a single size sits in the middle');
  });

  it('puts figures on a linear scale from zero, drawn upwards', function () {
    const y = linearScale(200, 140, 30);
    assert.equal(y(0), 140);
    assert.equal(y(200), 30);
    assert.equal(y(100), 85);
    assert.equal(linearScale(0, 140, 30)(0), 140, 'an axis of zeros has a height');
  });

  it('rounds an axis up to 1, 2 or 5 times a power of ten', function () {
    assert.deepEqual([0, 0.3, 1, 1.2, 3, 7, 42, 180, 501].map(niceMax), [1, 0.5, 1, 2, 5, 10, 50, 200, 1000]);
  });

  it('draws every figure of every size, and says where one was not measured', function () {
    const point = (backlog: number, databaseBytesPerJob: number | undefined): BacklogPoint => ({
      backlog,
      submitPerSec: 61.5,
      queuedPollP99Ms: 12,
      listP99Ms: 30,
      countsByStatus: { queued: backlog },
      apiRssMb: 100,
      workerRssMb: 200,
      databaseBytesPerJob,
      drainPerSec: 25,
    });
    const svg = growthChart([point(1000, undefined), point(10_000, undefined)], 'a <caption>');
    assert.match(svg, /^<svg /);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 6, 'six figures drawn, the database one not measured');
    assert.match(svg, /not measured here/);
    assert.match(svg, />10,000</);
    assert.match(svg, /a &#60;caption&#62;/);
  });
});
