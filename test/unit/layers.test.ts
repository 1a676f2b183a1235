// The architecture as a rule table: each layer of src/ imports only the layers below it, read from every
// file's import and export declarations, `import type`, `import()` and require() calls (TypeScript's parser).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

interface Layer {
  readonly name: string;
  /** Folders (ending in `/`) and files (without extension) under the project root. */
  readonly holds: readonly string[];
  readonly mayImport: readonly string[];
  /** Layers it may import types from (`import type`, `export type`, `import()` types), never code. */
  readonly mayImportTypes?: readonly string[];
  /** The only packages it may import (a name with a subpath allows exactly that subpath); absent: any. */
  readonly packages?: readonly string[];
}

/** Lowest first: a layer imports only from the layers it names, never from one above it. */
const layers: readonly Layer[] = [
  // The REST contract (zod): every side agrees on it, and the workflow bundle loads it. The worker protocol's shapes
  // come from the SDK's zod-only subpath, written once for the service and the handler workers; its names without
  // the schemas from another.
  {
    name: 'contract',
    holds: ['src/contract/'],
    mayImport: [],
    packages: ['zod', '@durable-jobs/worker/protocol', '@durable-jobs/worker/protocol-names'],
  },
  // The env schema and the logger built from it: read by everything but workflow code.
  { name: 'config', holds: ['src/config', 'src/logger'], mayImport: ['contract'] },
  // The job workflow, its state machine, messages, search attributes and task queues: deterministic.
  {
    name: 'workflows',
    holds: ['src/workflows/'],
    mayImport: ['contract'],
    packages: ['@temporalio/workflow', '@temporalio/common'],
  },
  // Job handlers and the workflows' other activities: they implement what the workflows declare.
  { name: 'activities', holds: ['src/activities/'], mayImport: ['contract', 'config', 'workflows'] },
  // Connection, payload codec, the servers' shared settings, and the deployment's one-shot namespace and schema setup.
  { name: 'temporal', holds: ['src/temporal/'], mayImport: ['contract', 'config', 'workflows'] },
  // Traces and job metrics of the API and the worker.
  { name: 'telemetry', holds: ['src/telemetry/'], mayImport: ['contract', 'config', 'workflows', 'temporal'] },
  // Jobs on Temporal: request building, commands, reads and their caches, the list. Job types are given to it.
  {
    name: 'jobs',
    holds: ['src/jobs/'],
    mayImport: ['contract', 'config', 'workflows', 'temporal', 'telemetry'],
    mayImportTypes: ['activities'],
  },
  // The REST API gives the job-type registry to the jobs module; the worker serves the workflows and activities.
  {
    name: 'api',
    holds: ['src/api/'],
    mayImport: ['contract', 'config', 'workflows', 'activities', 'temporal', 'jobs', 'telemetry'],
  },
  {
    name: 'worker',
    holds: ['src/worker/'],
    mayImport: ['contract', 'config', 'workflows', 'activities', 'temporal', 'telemetry'],
  },
  // The typed client users ship: it speaks only the contract.
  { name: 'client', holds: ['src/client/'], mayImport: ['contract'] },
];

/** The development tooling, the tests and the benchmark: they import src/, never the other way round. */
const tooling = ['dev/', 'test/', 'bench/'];

const root = fileURLToPath(new URL('../../', import.meta.url));
const sourceFile = /\.[cm]?[jt]s$/;

/** A project path as the table spells it: `/` separators, no extension. */
function tablePath(path: string): string {
  return relative(root, path).split(sep).join('/').replace(sourceFile, '');
}

function layerOf(path: string): Layer | undefined {
  const at = tablePath(path);
  return layers.find((layer) => layer.holds.some((held) => (held.endsWith('/') ? at.startsWith(held) : at === held)));
}

function sourceFiles(): string[] {
  return readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((path) => sourceFile.test(path))
    .map((path) => join(root, 'src', path))
    .sort();
}

interface Import {
  readonly specifier: string;
  readonly line: number;
  /** Erased from the emitted code: `import type`, `export type`, an `import()` type. */
  readonly typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (literal: ts.Node, typeOnly = false): void => {
    if (!ts.isStringLiteralLike(literal)) return;
    const line = source.getLineAndCharacterOfPosition(literal.getStart()).line + 1;
    found.push({ specifier: literal.text, line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node))
      add(node.moduleSpecifier, node.importClause?.phaseModifier === ts.SyntaxKind.TypeKeyword);
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node.moduleReference.expression);
    else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0]
    ) {
      add(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `@scope/name` or `name` of a package specifier, without its subpath. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function isNodeBuiltin(specifier: string): boolean {
  return (
    specifier.startsWith('node:') || builtinModules.includes(specifier) || builtinModules.includes(packageOf(specifier))
  );
}

const where = (file: string, { line, specifier }: Import): string =>
  `${relative(root, file)}:${line} imports '${specifier}'`;

describe('the layers of src/', () => {
  it('hold every file under src/', () => {
    const unplaced = sourceFiles()
      .filter((file) => !layerOf(file))
      .map((file) => relative(root, file));
    assert.deepEqual(unplaced, [], `files in no layer of the table:\n${unplaced.join('\n')}`);
  });

  it('import only from the layers below them', () => {
    const backwards: string[] = [];
    for (const file of sourceFiles()) {
      const from = layerOf(file)!;
      for (const found of importsOf(file)) {
        if (!found.specifier.startsWith('.')) continue;
        const target = resolve(dirname(file), found.specifier);
        const to = layerOf(target);
        if (to === from) continue;
        if (!to) backwards.push(`${where(file, found)}: outside the layers of src/`);
        else if (found.typeOnly && from.mayImportTypes?.includes(to.name)) continue;
        else if (!from.mayImport.includes(to.name)) {
          backwards.push(
            `${where(file, found)}: ${from.name} may not import ${to.name} (it may import ${from.mayImport.join(', ') || 'no other layer'})`,
          );
        }
      }
    }
    assert.deepEqual(backwards, [], `imports against the layers:\n${backwards.join('\n')}`);
  });

  it('never import the tooling (dev/, test/, bench/): src/ is what runs in production', () => {
    const found: string[] = [];
    for (const file of sourceFiles()) {
      for (const imported of importsOf(file)) {
        if (!imported.specifier.startsWith('.')) continue;
        const target = relative(root, resolve(dirname(file), imported.specifier))
          .split(sep)
          .join('/');
        if (tooling.some((folder) => target.startsWith(folder))) found.push(where(file, imported));
      }
    }
    assert.deepEqual(found, [], `production code importing the tooling:\n${found.join('\n')}`);
  });

  it('load only production dependencies: the image installs no devDependencies', () => {
    const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const found: string[] = [];
    for (const file of sourceFiles()) {
      for (const imported of importsOf(file)) {
        const { specifier } = imported;
        if (specifier.startsWith('.') || isNodeBuiltin(specifier) || packageOf(specifier) in dependencies) continue;
        found.push(`${where(file, imported)}: not in package.json's dependencies`);
      }
    }
    assert.deepEqual(found, [], `packages production does not install:\n${found.join('\n')}`);
  });

  it('keep workflow code, and the contract it loads, to workflow-safe packages: no Node built-ins', () => {
    const refused: string[] = [];
    for (const file of sourceFiles()) {
      const { name, packages } = layerOf(file)!;
      if (!packages) continue;
      for (const found of importsOf(file)) {
        if (found.specifier.startsWith('.')) continue;
        if (isNodeBuiltin(found.specifier)) refused.push(`${where(file, found)}: a Node built-in in ${name}`);
        // The SDK's non-workflow internals (codecs, protobufs) do I/O a workflow must not.
        else if (
          !(packages.includes(packageOf(found.specifier)) || packages.includes(found.specifier)) ||
          found.specifier.includes('internal-non-workflow')
        ) {
          refused.push(`${where(file, found)}: ${name} may import only ${packages.join(', ')}`);
        }
      }
    }
    assert.deepEqual(refused, [], `packages a workflow must not load:\n${refused.join('\n')}`);
  });
});

describe('the development tooling (dev/)', () => {
  it('imports neither test/ nor bench/: both build on it', () => {
    const found: string[] = [];
    for (const path of readdirSync(join(root, 'dev'), { recursive: true, encoding: 'utf8' })) {
      if (!sourceFile.test(path)) continue;
      const file = join(root, 'dev', path);
      for (const imported of importsOf(file)) {
        if (!imported.specifier.startsWith('.')) continue;
        const target = relative(root, resolve(dirname(file), imported.specifier))
          .split(sep)
          .join('/');
        if (target.startsWith('test/') || target.startsWith('bench/')) found.push(where(file, imported));
      }
    }
    assert.deepEqual(found, [], `dev/ importing the tests or the bench:\n${found.join('\n')}`);
  });
});
