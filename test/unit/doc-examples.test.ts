// The shell examples of the docs as test/docs-examples.test.ts finds them (test/support/doc-examples.ts): which
// fences count, the markers above them, the lines it reports, and what it refuses so that no block escapes.
import assert from 'node:assert/strict';
import {
  DocExampleMarkupError,
  extractShellExamples,
  fixedAddresses,
  fixedIds,
  parseCurlLog,
  unexpectedStatuses,
} from '../support/doc-examples.js';

const doc = (...lines: string[]) => lines.join('\n') + '\n';

function refusal(markdown: string): DocExampleMarkupError {
  let caught: unknown;
  assert.throws(
    () => extractShellExamples(markdown, 'doc.md'),
    (err: unknown) => ((caught = err), err instanceof DocExampleMarkupError),
  );
  return caught as DocExampleMarkupError;
}

describe('The shell examples of a Markdown file', function () {
  it('are the sh, bash, shell and console fences, with the line of their opening fence', function () {
    const examples = extractShellExamples(
      doc(
        '# Title',
        '```sh',
        'echo one',
        '```',
        '```ts',
        'const two = 2;',
        '```',
        '```json',
        '{ "three": 3 }',
        '```',
        '```bash title="four"',
        'echo four',
        'echo four again',
        '```',
        '``` Shell',
        'echo five',
        '```',
        '```console',
        'echo six',
        '```',
        '```',
        'durable-jobs is up:',
        '```',
      ),
      'doc.md',
    );
    assert.deepEqual(
      examples.map(({ line, language, code }) => ({ line, language, code })),
      [
        { line: 2, language: 'sh', code: 'echo one\n' },
        { line: 11, language: 'bash', code: 'echo four\necho four again\n' },
        { line: 15, language: 'shell', code: 'echo five\n' },
        { line: 18, language: 'console', code: 'echo six\n' },
      ],
    );
    assert.ok(examples.every((example) => example.file === 'doc.md' && example.notRun === undefined));
  });

  it('read a fence inside a list item without its indentation, and tildes or longer fences as fences', function () {
    const examples = extractShellExamples(
      doc(
        '- a list item:',
        '',
        '  ```sh',
        '  curl -s "$API/healthz"',
        '    --indented-more',
        '  ```',
        '~~~sh',
        'echo tilde',
        '~~~',
        '````sh',
        'cat <<EOF',
        '```',
        'EOF',
        '````',
      ),
      'doc.md',
    );
    assert.deepEqual(
      examples.map(({ line, code }) => ({ line, code })),
      [
        { line: 3, code: 'curl -s "$API/healthz"\n  --indented-more\n' },
        { line: 7, code: 'echo tilde\n' },
        { line: 10, code: 'cat <<EOF\n```\nEOF\n' },
      ],
    );
  });

  it('take the markers on the lines right above the fence, blank lines between allowed', function () {
    const [skipped, expecting, plain] = extractShellExamples(
      doc(
        '<!-- not run: starts the service -->',
        '```sh',
        'npm start',
        '```',
        'Some prose.',
        '<!-- service env: API_KEYS=acme:acme-key-0123456789abcdef RATE_LIMIT_SUBMITS_PER_SEC=5 -->',
        '',
        '<!--expect:401-->',
        '',
        '```sh',
        'curl -s "$API/api/v1/jobs"',
        '```',
        '<!-- expect: 409 -->',
        'A paragraph ends the markers: they belong to nothing below it.',
        '```sh',
        'echo plain',
        '```',
      ),
      'doc.md',
    );
    assert.deepEqual(skipped, {
      file: 'doc.md',
      line: 2,
      language: 'sh',
      code: 'npm start\n',
      notRun: 'starts the service',
      serviceEnv: {},
    });
    assert.equal(expecting!.line, 10);
    assert.equal(expecting!.expectStatus, 401);
    assert.deepEqual(expecting!.serviceEnv, {
      API_KEYS: 'acme:acme-key-0123456789abcdef',
      RATE_LIMIT_SUBMITS_PER_SEC: '5',
    });
    assert.equal(plain!.line, 15);
    assert.equal(plain!.expectStatus, undefined);
    assert.deepEqual(plain!.serviceEnv, {});
  });

  describe('are refused, naming the file and line, when', function () {
    const rows: [why: string, markdown: string, line: number, says: RegExp][] = [
      ['a marker is misspelt', doc('<!-- not-run: x -->', '```sh', 'npm start', '```'), 1, /no marker/],
      [
        'any other comment sits above a shell fence',
        doc('<!-- prettier-ignore -->', '```sh', 'ls', '```'),
        1,
        /no marker/,
      ],
      ['`not run` gives no reason', doc('<!-- not run: -->', '```sh', 'npm start', '```'), 2, /without a reason/],
      [
        '`not run` comes with another marker',
        doc('<!-- not run: slow -->', '<!-- expect: 404 -->', '```sh', 'x', '```'),
        3,
        /no other marker/,
      ],
      [
        'a marker is given twice',
        doc('<!-- expect: 404 -->', '<!-- expect: 409 -->', '```sh', 'x', '```'),
        1,
        /second/,
      ],
      ['`expect` is no status', doc('<!-- expect: 4xx -->', '```sh', 'x', '```'), 2, /one HTTP status/],
      ['`expect` lists several', doc('<!-- expect: 200 409 -->', '```sh', 'x', '```'), 2, /one HTTP status/],
      ['`service env` is not NAME=value', doc('<!-- service env: api_keys -->', '```sh', 'x', '```'), 2, /NAME=value/],
      [
        'a marker sits above a fence that is not shell',
        doc('<!-- not run: js -->', '```js', 'x', '```'),
        2,
        /not a shell/,
      ],
      ['an untagged fence holds a curl', doc('Text', '```', 'curl -s localhost:3000/healthz', '```'), 2, /tag it/],
      ['an untagged fence holds a prompt', doc('```', '$ npm test', 'ok', '```'), 1, /tag it/],
      ['a fence is never closed', doc('# T', '```sh', 'echo lost'), 2, /never closed/],
    ];
    for (const [why, markdown, line, says] of rows) {
      it(why, function () {
        const err = refusal(markdown);
        assert.equal(err.file, 'doc.md');
        assert.equal(err.line, line);
        assert.match(err.message, says);
        assert.ok(err.message.startsWith(`doc.md:${line}: `));
      });
    }
  });
});

describe("A block's addresses named outright", function () {
  it('are the loopback and any-address ones with a port, not the defaults of variables', function () {
    assert.deepEqual(
      fixedAddresses(
        'API=${API:-localhost:3000}\ncurl "$API/x" localhost:9464/metrics http://127.0.0.1:8233/ui [::1]:7233\n',
      ),
      ['localhost:9464', '127.0.0.1:8233', '[::1]:7233'],
    );
    assert.deepEqual(fixedAddresses('curl -s "${API:-localhost:3000}/api/v1/queues"\n'), []);
  });
});

describe('The ids a block sets itself', function () {
  it('are the jobIds and scheduleIds of its JSON, not the ones in its paths', function () {
    assert.deepEqual(
      fixedIds(
        [
          `curl -s -X POST "$API/api/v1/jobs" -d '{"type": "sleep", "input": {"seconds": 1}, "jobId": "hello-1"}'`,
          `curl -s "$API/api/v1/jobs/hello-1"`,
          `  -d '{"scheduleId":"nightly-report", "job": {"type": "sleep"}}'`,
        ].join('\n'),
      ),
      ['hello-1', 'nightly-report'],
    );
  });
});

describe("The statuses of a block's curls", function () {
  const calls = (...statuses: (number | undefined)[]) =>
    parseCurlLog(statuses.map((status, index) => `${status ?? 'none'}\t-s call-${index}\n`).join(''));

  it('are read from the log, a call that got no answer having none', function () {
    assert.deepEqual(parseCurlLog('202\t-s -X POST 127.0.0.1:1/api/v1/jobs -d {"a": 1}\nnone\t-s 127.0.0.1:2/\n'), [
      { status: 202, args: '-s -X POST 127.0.0.1:1/api/v1/jobs -d {"a": 1}' },
      { status: undefined, args: '-s 127.0.0.1:2/' },
    ]);
  });

  it('must all be 2xx without `expect`', function () {
    assert.deepEqual(unexpectedStatuses(calls(200, 201, 202, 204)), []);
    assert.deepEqual(unexpectedStatuses(calls()), []);
    assert.deepEqual(unexpectedStatuses(calls(202, 409, undefined)), [
      'curl -s call-1: 409, expected 2xx',
      'curl -s call-2: no answer, expected 2xx',
    ]);
  });

  it('with `expect`, end in that status after 2xx ones', function () {
    assert.deepEqual(unexpectedStatuses(calls(200, 401), 401), []);
    assert.deepEqual(unexpectedStatuses(calls(401), 401), []);
    assert.deepEqual(unexpectedStatuses(calls(200, 200), 401), ['curl -s call-1: 200, expected 401']);
    assert.deepEqual(unexpectedStatuses(calls(404, 401), 401), ['curl -s call-0: 404, expected 2xx']);
    assert.deepEqual(unexpectedStatuses(calls(), 409), ['expected a curl answering 409, ran none']);
  });
});
