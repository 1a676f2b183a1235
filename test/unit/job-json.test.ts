// The job JSON every poll, list, event and callback shows (src/contract/job-json.ts), from the workflow's state.
import assert from 'node:assert/strict';
import { Job, type JobState } from '../../src/contract/job.js';
import { jobPath, redacted, redactedInput, toJobJson } from '../../src/contract/job-json.js';
import { initialJobState, succeeded } from '../../src/workflows/job-state.js';
import { sampleJobRequest } from '../support/job-request.js';

const settings = { uiUrl: 'http://localhost:8233', namespace: 'default' };

const request = sampleJobRequest({ priority: 'high', taskQueue: 'jobs-high' });

describe("The job JSON shows the workflow's state as the contract describes it", function () {
  it("is a valid Job, with the state's fields and links to itself and the Web UI", function () {
    const json = toJobJson(initialJobState(request), 'acme/job-1', settings);
    assert.deepEqual(Job.parse(json), json);
    assert.equal(json.status, 'queued');
    assert.equal(json.priority, 'high');
    assert.deepEqual(json.links, {
      self: '/api/v1/jobs/job-1',
      ui: 'http://localhost:8233/namespaces/default/workflows/acme%2Fjob-1',
    });
  });

  it("carries a finished job's result and times", function () {
    const done = succeeded(
      initialJobState(request),
      1,
      { result: { sleptSeconds: 1 }, progress: { percent: 100, message: null } },
      '2025-01-01T00:00:02.000Z',
    );
    const json = toJobJson(done, 'job-1', settings);
    assert.deepEqual(Job.parse(json), json);
    assert.deepEqual(json.result, { sleptSeconds: 1 });
    assert.equal(json.finishedAt, '2025-01-01T00:00:02.000Z');
  });

  it('escapes the job id, namespace and workflow id in its links', function () {
    const json = toJobJson({ ...initialJobState(request), jobId: 'a:b' }, 'acme/a:b', {
      uiUrl: 'https://ui.example',
      namespace: 'prod ns',
    });
    assert.equal(json.links.self, '/api/v1/jobs/a%3Ab');
    assert.equal(json.links.ui, 'https://ui.example/namespaces/prod%20ns/workflows/acme%2Fa%3Ab');
    assert.equal(jobPath('a:b'), json.links.self);
  });

  it("links the job's trace into TRACE_UI_URL's {traceId}, URL-encoded, only when it has a traceId and the template is set", function () {
    const traceUrl = 'https://grafana.example/explore?trace={traceId}&again={traceId}';
    const inTrace = { ...initialJobState(request), traceId: '4bf92f3577b34da6a3ce929d0e0e4736' };
    const json = toJobJson(inTrace, 'job-1', { ...settings, traceUrl });
    assert.deepEqual(Job.parse(json), json);
    assert.equal(
      json.links.trace,
      'https://grafana.example/explore?trace=4bf92f3577b34da6a3ce929d0e0e4736&again=4bf92f3577b34da6a3ce929d0e0e4736',
    );
    assert.equal(
      toJobJson({ ...inTrace, traceId: 'a b/&c' }, 'job-1', { ...settings, traceUrl }).links.trace,
      'https://grafana.example/explore?trace=a%20b%2F%26c&again=a%20b%2F%26c',
    );
    assert.equal('trace' in toJobJson(inTrace, 'job-1', settings).links, false, 'no TRACE_UI_URL');
    assert.equal(
      'trace' in toJobJson(initialJobState(request), 'job-1', { ...settings, traceUrl }).links,
      false,
      'no traceId',
    );
  });

  it('fills the fields a state recorded before they existed lacks (replayed histories)', function () {
    const { runAt: _runAt, run: _run, children: _children, ...old } = initialJobState(request);
    const fromOldState = { ...old, callback: { status: 'pending', attempts: 0 } } as unknown as JobState;
    const json = toJobJson(fromOldState, 'job-1', settings);
    assert.equal(json.runAt, null);
    assert.equal(json.run, 1);
    assert.equal(json.children, null);
    assert.deepEqual(json.callback, { status: 'pending', attempts: 0, lastError: null });
    assert.deepEqual(Job.parse(json), json);
  });

  it("shows a command job's env values as ***", function () {
    const state = initialJobState({
      ...request,
      type: 'command',
      input: { command: 'deploy', env: { TOKEN: 'secret', REGION: 'eu' } },
    });
    assert.deepEqual(toJobJson(state, 'job-1', settings).input, {
      command: 'deploy',
      env: { TOKEN: redacted, REGION: redacted },
    });
    assert.deepEqual(
      state.input,
      { command: 'deploy', env: { TOKEN: 'secret', REGION: 'eu' } },
      'the state keeps the values for the handler',
    );
  });
});

describe("A job's input hides only a command's env values", function () {
  const rows: [name: string, type: string, input: unknown, shown: unknown][] = [
    [
      "a command's env values",
      'command',
      { command: 'x', env: { A: '1', B: '' } },
      { command: 'x', env: { A: '***', B: '***' } },
    ],
    ["a command's empty env", 'command', { command: 'x', env: {} }, { command: 'x', env: {} }],
    ['a command without env', 'command', { command: 'x' }, { command: 'x' }],
    ['a command whose env is null', 'command', { command: 'x', env: null }, { command: 'x', env: null }],
    ['a command whose input is not an object', 'command', 'x', 'x'],
    ['a command whose input is null', 'command', null, null],
    ["another type's env", 'sleep', { seconds: 1, env: { A: '1' } }, { seconds: 1, env: { A: '1' } }],
  ];
  for (const [name, type, input, shown] of rows) {
    it(name, function () {
      assert.deepEqual(redactedInput(type, input), shown);
    });
  }
});
