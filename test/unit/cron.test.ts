// How often a schedule's cron may fire (src/api/cron.ts): the API refuses a cron whose shortest gap is under
// SCHEDULE_MIN_INTERVAL_SECONDS, and one it cannot read when that minimum is over a minute.
import assert from 'node:assert/strict';
import { shortestCronGapSeconds } from '../../src/api/cron.js';

describe("A cron's shortest gap between fires is never overstated", function () {
  const rows: [cron: string, seconds: number, why: string][] = [
    ['* * * * *', 60, 'every minute'],
    ['*/5 * * * *', 300, 'every five minutes'],
    ['*/7 * * * *', 240, "minute 56 to the next hour's minute 0 is 4 minutes, shorter than the step"],
    ['5/15 * * * *', 900, '`a/n` runs from a to the end of the hour: 5, 20, 35, 50'],
    ['0,30 * * * *', 1800, 'a list'],
    ['0,1 0 * * *', 60, 'two fires a minute apart, once a day'],
    ['10-12 * * * *', 60, 'a range'],
    ['0 * * * *', 3600, 'hourly'],
    ['0 9-17 * * 1-5', 3600, 'the day fields are not read: hourly within the hours'],
    ['0 0,12 * * *', 43_200, 'twice a day'],
    ['0 3 * * *', 86_400, 'daily: the last fire of a day is followed by the first of the next'],
    ['0,55 0,23 * * *', 300, '23:55 to 00:00 the next day'],
    ['  */10   *  * * *  ', 600, 'surrounding and repeated spaces'],
  ];
  for (const [cron, seconds, why] of rows) {
    it(`"${cron}": ${seconds} s (${why})`, function () {
      assert.equal(shortestCronGapSeconds(cron), seconds);
    });
  }
});

describe('A cron whose minute or hour field cannot be read gives no gap', function () {
  const rows: [cron: string, why: string][] = [
    ['@hourly * * * *', 'a macro'],
    ['60 * * * *', 'minute 60'],
    ['0 24 * * *', 'hour 24'],
    ['5-1 * * * *', 'a range backwards'],
    ['*/0 * * * *', 'a step of 0'],
    ['? * * * *', 'a question mark'],
    ['0 H * * *', 'a letter'],
    ['0,,5 * * * *', 'an empty list item'],
    ['', 'nothing at all'],
  ];
  for (const [cron, why] of rows) {
    it(`"${cron}" (${why})`, function () {
      assert.equal(shortestCronGapSeconds(cron), undefined);
    });
  }
});
