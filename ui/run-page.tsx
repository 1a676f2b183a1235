// Run a job: pick a job type, fill a form made from its input's JSON Schema (text, number, a checkbox, a choice for
// an enum; a JSON box for anything else), pick a priority, submit, and go to the new job's page. The API validates;
// its messages show beside the fields they name.
import { useState } from 'preact/hooks';
import { useAction } from './action.js';
import { client, dataOf, JobsApiError, messageOf } from './api.js';
import { Pending, useDocumentTitle } from './components.js';
import type { components } from '../src/client/index.js';
import { json } from './format.js';
import { useLive } from './live.js';
import { jobPath, navigate, runPath } from './router.js';
import './pages.css';

type JobType = components['schemas']['JobTypeList']['types'][number];
type Priority = components['schemas']['Job']['priority'];

const priorities: readonly Priority[] = ['high', 'normal', 'low'];
/** How soon a failed read of the job types is tried again. */
const retryMs = 2000;

/** A property of an input schema, as far as the form reads it. */
interface PropertySchema {
  readonly type?: unknown;
  readonly enum?: readonly unknown[];
  readonly description?: unknown;
  readonly default?: unknown;
}

type FieldKind = 'text' | 'number' | 'integer' | 'boolean' | 'choice' | 'json';

interface Field {
  readonly name: string;
  readonly kind: FieldKind;
  readonly required: boolean;
  readonly description: string | undefined;
  readonly choices: readonly string[];
  readonly initial: string | boolean;
}

function kindOf(schema: PropertySchema): FieldKind {
  if (Array.isArray(schema.enum) && schema.enum.every((value) => typeof value === 'string')) return 'choice';
  if (schema.type === 'string') return 'text';
  if (schema.type === 'number') return 'number';
  if (schema.type === 'integer') return 'integer';
  if (schema.type === 'boolean') return 'boolean';
  return 'json';
}

/** The form's fields for an input schema, or undefined when its input is not an object with properties (then: JSON). */
function fieldsOf(inputSchema: Record<string, unknown>): Field[] | undefined {
  const properties = inputSchema['properties'];
  if (inputSchema['type'] !== 'object' || typeof properties !== 'object' || properties === null) return undefined;
  const required = new Set(Array.isArray(inputSchema['required']) ? (inputSchema['required'] as unknown[]) : []);
  return Object.entries(properties as Record<string, PropertySchema>).map(([name, schema]) => {
    const kind = kindOf(schema);
    const { default: fallback } = schema;
    const initial =
      kind === 'boolean'
        ? fallback === true
        : typeof fallback === 'string' || typeof fallback === 'number'
          ? String(fallback)
          : kind === 'json' && fallback !== undefined
            ? json(fallback)
            : '';
    return {
      name,
      kind,
      required: required.has(name),
      description: typeof schema.description === 'string' ? schema.description : undefined,
      choices: kind === 'choice' ? (schema.enum as string[]) : [],
      initial,
    };
  });
}

type Values = Readonly<Record<string, string | boolean>>;

/** Thrown by the form for a value it cannot send at all (a JSON field that is not JSON), naming the field's path. */
class FieldValueError extends Error {
  override readonly name = 'FieldValueError';

  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** The input the form's values make; a field left empty is left out (the type's default applies). */
function inputOf(fields: readonly Field[], values: Values): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const field of fields) {
    const value = values[field.name] ?? field.initial;
    if (field.kind === 'boolean') {
      if (value !== field.initial || field.required) input[field.name] = value === true;
      continue;
    }
    if (typeof value !== 'string' || value.trim() === '') continue;
    if (field.kind === 'number' || field.kind === 'integer') input[field.name] = Number(value);
    else if (field.kind === 'json') input[field.name] = parsedJson(value, `input.${field.name}`);
    else input[field.name] = value;
  }
  return input;
}

function parsedJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new FieldValueError(path, 'is not JSON');
  }
}

export function RunPage({
  query,
  onUnauthorized,
}: {
  readonly query: URLSearchParams;
  readonly onUnauthorized: () => void;
}) {
  // Read once; a failed read is shown and read again.
  const live = useLive(
    'job-types',
    async () => dataOf(await client.api.GET('/api/v1/job-types')).types,
    retryMs,
    onUnauthorized,
    () => false,
  );
  const types = live.data;
  useDocumentTitle('Run a job');
  const typeName = query.get('type') ?? types?.[0]?.name;
  const type = types?.find((known) => known.name === typeName);

  return (
    <section class="run">
      <div class="page-head wrapping-row">
        <h1>Run a job</h1>
      </div>
      {types === undefined ? (
        <Pending problem={live.problem} again={live.again} />
      ) : types.length === 0 ? (
        <p class="muted">No job type is known yet: start a worker that declares one.</p>
      ) : (
        <>
          <label class="field">
            <span>Job type</span>
            <select
              value={type?.name ?? ''}
              onChange={(event) =>
                navigate(`${runPath}?${new URLSearchParams({ type: event.currentTarget.value }).toString()}`, {
                  replace: true,
                })
              }
            >
              {types.map((known) => (
                <option key={known.name} value={known.name}>
                  {known.name}
                </option>
              ))}
            </select>
          </label>
          {type ? (
            <RunForm key={type.name} type={type} onUnauthorized={onUnauthorized} />
          ) : (
            <p class="notice notice-error">No job type named {typeName}.</p>
          )}
        </>
      )}
    </section>
  );
}

function RunForm({ type, onUnauthorized }: { readonly type: JobType; readonly onUnauthorized: () => void }) {
  const fields = fieldsOf(type.inputSchema);
  const [values, setValues] = useState<Values>({});
  const [rawInput, setRawInput] = useState('{}');
  const [priority, setPriority] = useState<Priority>('normal');
  /** The API's (or the form's own) problems, by the path they name: `input.seconds`, `priority`, or '' for the whole. */
  const action = useAction(onUnauthorized, problemsOf);
  const problems = action.problem ?? {};
  const set = (name: string, value: string | boolean) => setValues({ ...values, [name]: value });

  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const input = fields ? inputOf(fields, values) : parsedJson(rawInput, 'input');
      const job = await client.submit({ type: type.name, input, priority });
      navigate(jobPath(job.jobId));
      scrollTo(0, 0);
    });
  };

  const general = Object.entries(problems).filter(
    ([path]) =>
      !(path === 'input' && !fields) && !fields?.some((field) => path === `input.${field.name}`) && path !== 'priority',
  );
  return (
    <form class="run-form panel" noValidate onSubmit={submit}>
      {type.description && <p class="muted">{type.description}</p>}
      {fields ? (
        fields.map((field) => (
          <FieldInput
            key={field.name}
            field={field}
            value={values[field.name] ?? field.initial}
            problem={problems[`input.${field.name}`]}
            onChange={(value) => set(field.name, value)}
          />
        ))
      ) : (
        <label class="field">
          <span>Input (JSON)</span>
          <textarea
            rows={8}
            value={rawInput}
            aria-invalid={problems['input'] ? 'true' : undefined}
            onInput={(event) => setRawInput(event.currentTarget.value)}
          />
          {problems['input'] && <span class="field-error">{problems['input']}</span>}
        </label>
      )}
      <label class="field">
        <span>Priority</span>
        <select
          value={priority}
          aria-invalid={problems['priority'] ? 'true' : undefined}
          onChange={(event) => setPriority(event.currentTarget.value as Priority)}
        >
          {priorities.map((known) => (
            <option key={known} value={known}>
              {known}
            </option>
          ))}
        </select>
        {problems['priority'] && <span class="field-error">{problems['priority']}</span>}
      </label>
      {general.length > 0 && (
        <div class="notice notice-error" role="alert">
          {general.map(([path, message]) => (
            <p key={path}>{path ? `${path}: ${message}` : message}</p>
          ))}
        </div>
      )}
      <div>
        <button type="submit" disabled={action.busy}>
          {action.busy ? 'Submitting…' : 'Run job'}
        </button>
      </div>
    </form>
  );
}

/** The form's or the API's refusal by the paths its details name; a refusal without details is the form's as a whole. */
function problemsOf(err: unknown): Readonly<Record<string, string>> {
  if (err instanceof FieldValueError) return { [err.path]: err.message };
  if (!(err instanceof JobsApiError)) return { '': messageOf(err) };
  const byPath: Record<string, string> = {};
  for (const detail of err.details ?? []) {
    if (typeof detail !== 'object' || detail === null) continue;
    const { path, message } = detail as { path?: unknown; message?: unknown };
    if (typeof path === 'string' && typeof message === 'string') byPath[path] ??= message;
  }
  return Object.keys(byPath).length > 0 ? byPath : { '': err.message };
}

interface FieldProps {
  readonly field: Field;
  readonly value: string | boolean;
  readonly problem: string | undefined;
  readonly onChange: (value: string | boolean) => void;
}

function FieldInput({ field, value, problem, onChange }: FieldProps) {
  const id = `field-${field.name}`;
  const described = [field.description ? `${id}-about` : '', problem ? `${id}-problem` : ''].join(' ').trim();
  const common = {
    id,
    name: field.name,
    'aria-invalid': problem ? ('true' as const) : undefined,
    'aria-describedby': described || undefined,
  };
  const text = typeof value === 'string' ? value : '';
  return (
    <div class={`field${field.kind === 'boolean' ? ' field-check' : ''}`} data-field={field.name}>
      <label for={id}>
        {field.name}
        {field.required && <span aria-hidden="true"> *</span>}
        {field.required && <span class="visually-hidden"> (required)</span>}
      </label>
      {field.kind === 'boolean' ? (
        <input
          {...common}
          type="checkbox"
          checked={value === true}
          onChange={(event) => onChange(event.currentTarget.checked)}
        />
      ) : field.kind === 'choice' ? (
        <select {...common} value={text} onChange={(event) => onChange(event.currentTarget.value)}>
          {!field.required && <option value="">(default)</option>}
          {field.choices.map((choice) => (
            <option key={choice} value={choice}>
              {choice}
            </option>
          ))}
        </select>
      ) : field.kind === 'json' ? (
        <textarea
          {...common}
          rows={4}
          value={text}
          placeholder="JSON"
          onInput={(event) => onChange(event.currentTarget.value)}
        />
      ) : field.kind === 'text' ? (
        <input {...common} type="text" value={text} onInput={(event) => onChange(event.currentTarget.value)} />
      ) : (
        <input
          {...common}
          type="number"
          step={field.kind === 'integer' ? 1 : 'any'}
          value={text}
          onInput={(event) => onChange(event.currentTarget.value)}
        />
      )}
      {field.description && (
        <span id={`${id}-about`} class="muted field-about">
          {field.description}
        </span>
      )}
      {problem && (
        <span id={`${id}-problem`} class="field-error" role="alert">
          {problem}
        </span>
      )}
    </div>
  );
}
