// The API's fixed vocabularies, each listed once, in the order the tracker shows them. The types come
// from the generated schema; `everyMember` makes a list that misses a value, names one the API does
// not have, or names one twice a compile error, so a change to the API surfaces here.
import type { components } from './schema';

type Schemas = components['schemas'];

export type Status = Schemas['Status'];
export type Severity = Schemas['Severity'];
export type Role = Schemas['Role'];

/** `true` when no value of the tuple appears twice. */
type Distinct<L extends readonly unknown[]> = L extends readonly [infer Head, ...infer Rest]
	? Head extends Rest[number]
		? false
		: Distinct<Rest>
	: true;

/** The argument type of `everyMember<U>()`: the list itself, or an explanation why it is wrong. */
type Complete<U extends string, L extends readonly U[]> = [Exclude<U, L[number]>] extends [never]
	? Distinct<L> extends true
		? L
		: { error: 'a value is listed twice' }
	: { error: 'values are missing'; missing: Exclude<U, L[number]> };

/** The list as given, checked at compile time to hold every member of `U` exactly once. */
export function everyMember<U extends string>() {
	return <const L extends readonly U[]>(list: L & Complete<U, L>): L => list;
}

/** The workflow, first step to last. */
export const STATUSES = everyMember<Status>()(['OPEN', 'TRIAGED', 'IN_PROGRESS', 'DONE']);
/** Least to most severe. */
export const SEVERITIES = everyMember<Severity>()(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);
/** Fewest to most rights. */
export const ROLES = everyMember<Role>()(['REPORTER', 'MAINTAINER', 'ADMIN']);

/** `value` if it is one of `values` (a form field, a query parameter), else undefined. */
export function oneOf<T extends string>(values: readonly T[], value: unknown): T | undefined {
	return values.find((v) => v === value);
}
