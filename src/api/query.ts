// A route's query string read against its contract schema, in one step for every route. Koa gives a parameter sent
// twice as an array, which a single value's schema refuses in words that do not say why ("expected number, received
// NaN"); and a whole number out of range got two messages, one of them the safe integer's bound, not the contract's.
import type { ParsedUrlQuery } from 'node:querystring';
import type { z } from 'zod';
import { quoted } from '../jobs/suggest.js';
import { RequestInvalidError } from './errors.js';

/** The parts of a zod schema's definition that lead from a field to what it takes. */
interface FieldDef {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly options?: readonly z.ZodType[];
}

function defOf(schema: z.ZodType): FieldDef {
  return schema._zod.def;
}

/** Whether the field takes a list (`tag`): through optionals, defaults, pipes (transforms) and unions. */
function takesList(schema: z.ZodType): boolean {
  const def = defOf(schema);
  if (def.type === 'array') return true;
  if (def.type === 'union') return def.options!.some(takesList);
  const inner = def.innerType ?? def.in;
  return inner ? takesList(inner) : false;
}

/** The whole number the field is (`limit`), through optionals and defaults; undefined for any other field. */
function wholeNumberOf(schema: z.ZodType): z.ZodNumber | undefined {
  const def = defOf(schema);
  if (def.type === 'number') {
    const number = schema as z.ZodNumber;
    return number.format?.includes('int') ? number : undefined;
  }
  return def.innerType && (def.type === 'optional' || def.type === 'default')
    ? wholeNumberOf(def.innerType)
    : undefined;
}

/** How a whole-number parameter is explained beyond its range: its unit, and an example of its use. */
export interface NumberHint {
  readonly unit: string;
  readonly example: string;
}

/**
 * The query as `schema` reads it, or a 400 saying what to send: a single-valued parameter given more than once, and a
 * whole number that is not one or out of range (its bounds, once), named with what was sent.
 */
export function parseQuery<S extends z.ZodObject>(
  schema: S,
  query: ParsedUrlQuery,
  hints: Readonly<Record<string, NumberHint>> = {},
): z.infer<S> {
  const shape = schema.shape as Record<string, z.ZodType>;
  // The query is the caller's: a key like `constructor` is no field of the schema.
  const fieldOf = (key: string): z.ZodType | undefined => (Object.hasOwn(shape, key) ? shape[key] : undefined);
  for (const [key, value] of Object.entries(query)) {
    const field = fieldOf(key);
    if (Array.isArray(value) && field && !takesList(field)) {
      const message = `given ${value.length} times; give it once`;
      throw RequestInvalidError.fromProblems([{ path: key, message }]);
    }
  }
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const refused = RequestInvalidError.fromZod(parsed.error, [], { schema, value: query });
  const explained = new Set<string>();
  const problems = (refused.details as { path: string; message: string }[]).flatMap((problem) => {
    const field = fieldOf(problem.path);
    const number = field ? wholeNumberOf(field) : undefined;
    if (!number) return [problem];
    if (explained.has(problem.path)) return [];
    explained.add(problem.path);
    const hint = hints[problem.path];
    const unit = hint ? ` of ${hint.unit}` : '';
    const example = hint ? ` (${hint.example})` : '';
    const message = `is a whole number${unit} from ${number.minValue} to ${number.maxValue}${example}, not ${quoted(String(query[problem.path]))}`;
    return [{ path: problem.path, message }];
  });
  throw RequestInvalidError.fromProblems(problems);
}
