// The body of every error response the API sends (RFC 9457 problem details, problem+json), as the
// generated schema declares it. Code that reads an error body it has not checked uses a Partial.
import type { components } from './schema';

export type Problem = components['schemas']['Problem'];
/** One invalid value of a refused request, in Problem.errors. */
export type ProblemField = components['schemas']['ProblemField'];
