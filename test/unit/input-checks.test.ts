// A submit's input checked against its type's declared JSON Schema (src/jobs/job-types.ts), as the API holds the
// checks over a long life of declarations: pure, no Temporal server.
import assert from 'node:assert/strict';
import type { JobTypeDeclaration, JobTypeView } from '../../src/contract/job-type-declaration.js';
import { InputChecks } from '../../src/jobs/job-types.js';

function view(name: string, inputSchema: Record<string, unknown>, revision: number): JobTypeView {
  const declaration: JobTypeDeclaration = {
    name,
    description: `${name} jobs`,
    inputSchema,
    resultSchema: null,
    defaults: {
      timeoutSeconds: 60,
      heartbeatTimeoutSeconds: 10,
      retry: { maxAttempts: 3, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 30 },
    },
  };
  return { declaration, revision, workers: { high: 0, normal: 1, low: 0 }, liveVariants: 1 };
}

/** A schema with an `$id`, as generators and hand-written schemas often carry, requiring `required`. */
function schemaRequiring(required: string): Record<string, unknown> {
  return {
    $id: 'https://example.com/schemas/input.json',
    type: 'object',
    properties: { [required]: { type: 'integer' } },
    required: [required],
  };
}

function accepts(checks: InputChecks, of: JobTypeView, input: unknown): boolean {
  return 'input' in checks.of(of).check(input);
}

describe("Checking a submit's input against its type's declared schema", function () {
  it('checks two types whose schemas carry the same $id, each against its own', function () {
    const checks = new InputChecks();
    const resize = view('resize', schemaRequiring('width'), 1);
    const transcode = view('transcode', schemaRequiring('bitrate'), 2);
    assert.ok(accepts(checks, resize, { width: 10 }));
    assert.ok(accepts(checks, transcode, { bitrate: 64 }));
    assert.ok(!accepts(checks, transcode, { width: 10 }), 'the second type is checked against its own schema');
  });

  it("checks against a type's newest schema after each upgrade, keeping one check per type", function () {
    const checks = new InputChecks();
    for (let version = 1; version <= 50; version++) {
      const upgraded = view('resize', schemaRequiring(`width${version}`), version);
      assert.ok(accepts(checks, upgraded, { [`width${version}`]: 1 }), `version ${version} accepts its own input`);
      assert.ok(
        !accepts(checks, upgraded, { [`width${version - 1}`]: 1 }),
        `version ${version} refuses the last one's`,
      );
    }
    assert.equal(checks.size, 1);
  });

  it('checks against the schema declared now when a reset registry numbers it as an older one was', function () {
    const checks = new InputChecks();
    assert.ok(accepts(checks, view('resize', schemaRequiring('width'), 1), { width: 1 }));
    const afterReset = view('resize', schemaRequiring('height'), 1);
    assert.ok(accepts(checks, afterReset, { height: 1 }));
    assert.ok(!accepts(checks, afterReset, { width: 1 }));
  });

  it('checks alike when a new registry read gives the same declaration as new objects', function () {
    const checks = new InputChecks();
    const first = checks.of(view('resize', schemaRequiring('width'), 1));
    // A new read of the same declaration: equal content, new objects.
    const again = checks.of(view('resize', structuredClone(schemaRequiring('width')), 1));
    assert.deepEqual(first.check({ width: 1 }), again.check({ width: 1 }));
    assert.ok('problems' in again.check({}));
  });

  it('keeps no check of a type the registry let go, however many names come and go', function () {
    const checks = new InputChecks();
    for (let index = 0; index < 200; index++) {
      const renamed = view(`resize-${index}`, schemaRequiring('width'), index + 1);
      assert.ok(accepts(checks, renamed, { width: 1 }));
      // The registry drops the types no live worker serves once it needs their room.
      checks.keepOnly(new Set([renamed.declaration.name]));
    }
    assert.equal(checks.size, 1);
    assert.ok(!accepts(checks, view('resize-199', schemaRequiring('width'), 200), {}));
  });
});
