// Server-side access to the FastAPI service. Only SvelteKit server code (load functions, actions,
// hooks) may import this: it talks to API_URL directly, not through the browser-facing /api proxy.
import createClient, { type Client } from 'openapi-fetch';
import { env } from '$env/dynamic/private';
import type { components, paths } from '$lib/api/schema';

export type ApiClient = Client<paths>;
export type Schemas = components['schemas'];

const DEFAULT_API_URL = 'http://127.0.0.1:8000';
/** SSR must not hang on a stuck API; pages render an "unreachable" state instead. */
const DEFAULT_TIMEOUT_MS = 5000;

export function apiUrl(): string {
	return (env.API_URL || DEFAULT_API_URL).replace(/\/+$/, '');
}

export interface ApiOptions {
	/** Bearer token of the signed-in user, if any. */
	accessToken?: string;
	timeoutMs?: number;
}

/**
 * A typed client for the API. Pass `event.fetch` so SvelteKit can track the request; paths are the
 * API's own (`/api/...`), e.g. `await api(fetch).GET('/api/healthz')`.
 */
export function api(fetchImpl: typeof fetch = fetch, options: ApiOptions = {}): ApiClient {
	const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
	const headers: Record<string, string> = { accept: 'application/json' };
	if (options.accessToken) headers.authorization = `Bearer ${options.accessToken}`;

	return createClient<paths>({
		baseUrl: apiUrl(),
		headers,
		fetch: (request: Request) =>
			fetchImpl(request, {
				signal: AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)])
			})
	});
}

export type ApiHealth =
	| { reachable: true; healthy: boolean; status: string; httpStatus: number }
	| { reachable: false; healthy: false; status: string; httpStatus: null; detail: string };

/** GET /api/healthz, never throwing: an unreachable API is a state the page shows, not an error. */
export async function getApiHealth(fetchImpl: typeof fetch = fetch): Promise<ApiHealth> {
	try {
		const { data, response } = await api(fetchImpl).GET('/api/healthz');
		if (data) {
			return {
				reachable: true,
				healthy: response.ok && data.status === 'ok',
				status: data.status,
				httpStatus: response.status
			};
		}
		return {
			reachable: true,
			healthy: false,
			status: `HTTP ${response.status}`,
			httpStatus: response.status
		};
	} catch (err) {
		const detail =
			err instanceof Error && err.name === 'TimeoutError'
				? 'timed out'
				: err instanceof Error
					? err.message
					: String(err);
		return { reachable: false, healthy: false, status: 'unreachable', httpStatus: null, detail };
	}
}
