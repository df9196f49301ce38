// The typed API client for code running in the browser. Same origin: the web server proxies /api,
// and the session cookie goes with every request. (Server code uses $lib/server/api instead, which
// talks to the API directly with the user's token.)
import createClient from 'openapi-fetch';
import type { paths } from './schema';

export const browserApi = createClient<paths>();
