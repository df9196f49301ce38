// Production entry point: one origin for the browser. SvelteKit (adapter-node's handler) serves the
// pages; everything under /api — plain HTTP and the WebSocket upgrade on /api/ws — is forwarded to
// the API, so cookies, CORS and the WebSocket Origin check all see a single site.
//
//   HOST     interface to listen on            (default 127.0.0.1)
//   PORT     port to listen on                 (default 3000)
//   API_URL  where the FastAPI service listens (default http://127.0.0.1:8000)
//   BODY_SIZE_LIMIT  largest form the pages accept (default 210M: the new-issue form carries its
//            files, up to MAX_ATTACHMENTS_PER_ISSUE × MAX_UPLOAD_BYTES with the API's defaults of
//            20 × 10 MB; a form is held in memory while it is forwarded). Uploads on an issue
//            page go straight to /api and are streamed.
//   API_JSON_BODY_LIMIT    largest body forwarded to /api that is not multipart (default 1M)
//   API_UPLOAD_BODY_LIMIT  largest multipart body forwarded to /api (default: BODY_SIZE_LIMIT)
//            Bodies are counted as they stream through; past the limit the API gets nothing more
//            and the client gets 413 application/problem+json. Sizes: 512K, 1M, 1MiB, 2G, bytes.
//
// adapter-node's own variables (ORIGIN, PROTOCOL_HEADER, HOST_HEADER, ADDRESS_HEADER, XFF_DEPTH…)
// still apply to the pages. ADDRESS_HEADER and XFF_DEPTH also decide which client address the API
// is told about for /api requests: the same one the pages see.
//
// Every response gets the baseline security headers (securityHeaders below); pages replace the
// fallback Content-Security-Policy with their own (kit.csp in vite.config.ts). Pages, their data
// and the static files are compressed (brotli or gzip, as the browser asks) when over 1 KB;
// /api is forwarded as the API sends it.
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import { Transform } from 'node:stream';
import httpProxy from 'http-proxy';
import compression from 'compression';

const HOST = process.env.HOST || '127.0.0.1';
const PORT = Number(process.env.PORT || 3000);
const API_URL = (process.env.API_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '');

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * A size from the environment: `512K`, `1M`, `1MiB`, `2G`, plain bytes, or `Infinity` (no limit).
 * Units are binary, as in adapter-node's BODY_SIZE_LIMIT.
 * @param {string} name
 * @param {string} fallback
 */
function sizeFromEnv(name, fallback) {
	const raw = (process.env[name] || fallback).trim();
	if (raw === 'Infinity') return Infinity;
	const match = /^(\d+(?:\.\d+)?)\s*(?:([KMG])(?:i?B)?|B)?$/i.exec(raw);
	if (!match) {
		throw new Error(`${name} must be a size such as 1M or 512K, not ${JSON.stringify(raw)}`);
	}
	const unit = { K: KIB, M: MIB, G: 1024 * MIB }[match[2]?.toUpperCase() ?? ''] ?? 1;
	return Math.floor(Number(match[1]) * unit);
}

/** @param {number} bytes */
function sizeText(bytes) {
	if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MB`;
	if (bytes >= KIB && bytes % KIB === 0) return `${bytes / KIB} KB`;
	return `${bytes} bytes`;
}

// Without ORIGIN, adapter-node assumes https, which makes SvelteKit's CSRF check reject form posts
// on plain-http local runs. Derive the protocol from X-Forwarded-Proto instead, which this server
// always sets (see forwardedHeaders) — set before the handler module reads its environment.
if (!process.env.ORIGIN) {
	process.env.PROTOCOL_HEADER ??= 'x-forwarded-proto';
	process.env.HOST_HEADER ??= 'x-forwarded-host';
}
// adapter-node's own default (512K) would refuse a new issue with a single screenshot. It reads
// plain numbers only, so a size written as 210MiB is handed over in bytes.
const BODY_SIZE_LIMIT = sizeFromEnv('BODY_SIZE_LIMIT', '210M');
process.env.BODY_SIZE_LIMIT = String(BODY_SIZE_LIMIT);
const API_JSON_BODY_LIMIT = sizeFromEnv('API_JSON_BODY_LIMIT', '1M');
const API_UPLOAD_BODY_LIMIT = sizeFromEnv('API_UPLOAD_BODY_LIMIT', String(BODY_SIZE_LIMIT));

const ADDRESS_HEADER = (process.env.ADDRESS_HEADER || '').toLowerCase();
const XFF_DEPTH = Number.parseInt(process.env.XFF_DEPTH || '1', 10);
const PUBLIC_PROTOCOL = process.env.ORIGIN ? new URL(process.env.ORIGIN).protocol : null;

const { handler } = await import('./build/handler.js');

// --- security headers ------------------------------------------------------------------------

/** Powerful features no page of the tracker uses: refused for the pages and anything they embed. */
const PERMISSIONS_POLICY = [
	'accelerometer=()',
	'browsing-topics=()',
	'camera=()',
	'display-capture=()',
	'geolocation=()',
	'gyroscope=()',
	'hid=()',
	'magnetometer=()',
	'microphone=()',
	'midi=()',
	'payment=()',
	'serial=()',
	'usb=()'
].join(', ');

/** For what is not a page (files, redirects, data, plain errors): nothing may run or load. */
const FALLBACK_CSP =
	"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * Whether the browser reached us over https, as the pages judge it: the protocol of ORIGIN, or
 * without ORIGIN the protocol header (X-Forwarded-Proto, from the proxy in front or from this
 * server itself).
 * @param {http.IncomingMessage} req
 */
function overHttps(req) {
	if (PUBLIC_PROTOCOL) return PUBLIC_PROTOCOL === 'https:';
	const name = (process.env.PROTOCOL_HEADER || '').toLowerCase();
	const value = name ? req.headers[name] : undefined;
	const first = String(value ?? '').split(',')[0];
	return first.trim() === 'https';
}

/**
 * Set before the response is handed on: a header of the same name written later — a page's own
 * CSP, or any header the API sends (e.g. the sandbox CSP on attachments) — replaces these.
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {boolean} api
 */
function securityHeaders(req, res, api) {
	res.setHeader('X-Content-Type-Options', 'nosniff');
	res.setHeader('Referrer-Policy', 'strict-origin-when-cross-origin');
	res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
	if (overHttps(req)) res.setHeader('Strict-Transport-Security', HSTS);
	if (!api) {
		// Not on /api: the API frames attachments (PDF previews) and sets its own policies.
		res.setHeader('Content-Security-Policy', FALLBACK_CSP);
		res.setHeader('X-Frame-Options', 'DENY');
	}
}

// --- forwarding ------------------------------------------------------------------------------

/** True for `/api`, `/api/…` and `/api?…`, but not for e.g. `/apiary`. */
function isApiPath(url = '') {
	return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
}

/**
 * The browser's address, exactly as adapter-node's getClientAddress() finds it for the pages: from
 * ADDRESS_HEADER (the XFF_DEPTH-th address from the right of X-Forwarded-For) when a trusted proxy
 * in front sets it, else the connection's peer.
 * @param {http.IncomingMessage} req
 */
function clientAddress(req) {
	const value = ADDRESS_HEADER ? req.headers[ADDRESS_HEADER] : undefined;
	if (typeof value === 'string' && value.trim()) {
		if (ADDRESS_HEADER !== 'x-forwarded-for') return value.trim();
		const addresses = value.split(',');
		if (XFF_DEPTH >= 1 && XFF_DEPTH <= addresses.length) {
			return addresses[addresses.length - XFF_DEPTH].trim();
		}
	}
	return req.socket.remoteAddress ?? '';
}

/**
 * Keep what an outer proxy said about the protocol and host, or say it for this hop, so the API
 * builds https URLs when TLS ends in front of us.
 * @param {http.IncomingMessage} req
 */
function forwardedHeaders(req) {
	if (!req.headers['x-forwarded-proto']) {
		req.headers['x-forwarded-proto'] = /** @type {any} */ (req.socket).encrypted ? 'https' : 'http';
	}
	if (!req.headers['x-forwarded-host'] && req.headers.host) {
		req.headers['x-forwarded-host'] = req.headers.host;
	}
}

/**
 * The API throttles sign-in and logs by client address: it gets the one address the pages would
 * use. Whatever else an incoming X-Forwarded-For holds was written by the client, not by a proxy we
 * trust, and is dropped.
 * @param {http.IncomingMessage} req
 */
function apiForwardedFor(req) {
	req.headers['x-forwarded-for'] = clientAddress(req);
}

const proxy = httpProxy.createProxyServer({
	target: API_URL,
	// Reuse connections to the API instead of a TCP handshake per request.
	agent: new (API_URL.startsWith('https:') ? https : http).Agent({ keepAlive: true }),
	// Host stays the browser's, so the API's Origin/redirect checks see the public origin.
	changeOrigin: false,
	// Headers are set by forwardedHeaders: http-proxy's xfwd would turn "https" into "https,http".
	xfwd: false,
	ws: true
});

const BAD_GATEWAY = JSON.stringify({
	type: 'about:blank',
	title: 'Bad Gateway',
	status: 502,
	detail: 'API unreachable',
	code: 'api_unreachable'
});

// --- request-body limits for /api ------------------------------------------------------------

/** Requests whose body went over its limit: answered here, never by the API. */
const refused = new WeakSet();
/** The request to the API carrying each forwarded body, to cut it off. */
const upstream = new WeakMap();
/** After a 413, read and drop at most this much of what the client still sends, then hang up. */
const DRAIN_BYTES = 8 * MIB;
const DRAIN_MS = 5000;

/** @param {http.IncomingMessage} req */
function bodyLimit(req) {
	const type = String(req.headers['content-type'] ?? '').toLowerCase();
	return type.startsWith('multipart/form-data') ? API_UPLOAD_BODY_LIMIT : API_JSON_BODY_LIMIT;
}

/**
 * Answer 413 for a body over `limit` and make sure the API never sees the rest of it.
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {number} limit
 */
function refuseBody(req, res, limit) {
	if (refused.has(req)) return;
	refused.add(req);
	upstream.get(req)?.destroy();
	req.unpipe();

	if (!res.headersSent) {
		const body = JSON.stringify({
			type: 'about:blank',
			title: 'Content Too Large',
			status: 413,
			detail: `The request body is larger than ${sizeText(limit)}, the most this server accepts for it.`,
			code: 'payload_too_large',
			limit_bytes: limit
		});
		res.writeHead(413, {
			'content-type': 'application/problem+json',
			'content-length': Buffer.byteLength(body),
			'cache-control': 'no-store'
		});
		res.end(body);
	} else if (!res.writableEnded) {
		// The API had begun to answer before the body went over: that answer cannot be finished.
		res.destroy();
	}

	// Hanging up at once would reset the connection under a client still sending, and many clients
	// then never read the 413: take in (and drop) a little more first. Nothing is kept.
	let drained = 0;
	const hangUp = () => req.socket.destroy();
	const timer = setTimeout(hangUp, DRAIN_MS);
	timer.unref();
	req.on('data', (/** @type {Buffer} */ chunk) => {
		drained += chunk.length;
		if (drained > DRAIN_BYTES) hangUp();
	});
	req.on('close', () => clearTimeout(timer));
	req.resume();
}

/**
 * The body to forward for `req`: counted as it streams through, cut off past its limit.
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 */
function limitedBody(req, res) {
	const limit = bodyLimit(req);
	let seen = 0;
	const counter = new Transform({
		transform(chunk, _encoding, done) {
			seen += chunk.length;
			if (seen > limit) {
				refuseBody(req, res, limit);
				done();
				return;
			}
			done(null, chunk);
		}
	});
	req.pipe(counter);
	return counter;
}

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 */
function forwardToApi(req, res) {
	apiForwardedFor(req);
	const declared = Number(req.headers['content-length']);
	const limit = bodyLimit(req);
	if (Number.isFinite(declared) && declared > limit) {
		refuseBody(req, res, limit);
		return;
	}
	// 100-continue was answered here already (see checkContinue); the API needs no second one.
	delete req.headers.expect;
	proxy.web(req, res, { buffer: limitedBody(req, res) });
}

proxy.on('proxyReq', (proxyReq, req) => {
	if (refused.has(req)) proxyReq.destroy();
	else upstream.set(req, proxyReq);
});

proxy.on('error', (err, req, res) => {
	// The request to the API was cut off on purpose: the client has its 413.
	if (refused.has(req)) return;
	console.error(`[web] API proxy error (${API_URL}): ${err.message}`);
	if (res instanceof http.ServerResponse) {
		if (!res.headersSent) {
			res.writeHead(502, {
				'content-type': 'application/problem+json',
				'content-length': Buffer.byteLength(BAD_GATEWAY),
				'cache-control': 'no-store'
			});
			res.end(BAD_GATEWAY);
		} else {
			res.destroy();
		}
	} else if (res && !res.destroyed) {
		// A WebSocket upgrade: the socket is still raw HTTP/1.1 at this point.
		res.end(
			'HTTP/1.1 502 Bad Gateway\r\n' +
				'Content-Type: application/problem+json\r\n' +
				`Content-Length: ${Buffer.byteLength(BAD_GATEWAY)}\r\n` +
				'Connection: close\r\n\r\n' +
				BAD_GATEWAY
		);
	}
});

// --- the server ------------------------------------------------------------------------------

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 */
function onRequest(req, res) {
	forwardedHeaders(req);
	const api = isApiPath(req.url);
	securityHeaders(req, res, api);
	if (api) {
		forwardToApi(req, res);
		return;
	}
	compress(req, res, () =>
		handler(req, res, () => {
			res.statusCode = 404;
			res.end('Not found');
		})
	);
}

// Brotli at a quality that costs about what gzip does; a 25-row list page shrinks about tenfold.
const compress = compression({
	threshold: 1024,
	brotli: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }
});

const server = http.createServer(onRequest);

// A client that asks before sending a body (Expect: 100-continue) learns about a body over the
// limit before it sends a byte of it.
server.on('checkContinue', (req, res) => {
	const declared = Number(req.headers['content-length']);
	if (isApiPath(req.url) && Number.isFinite(declared) && declared > bodyLimit(req)) {
		forwardedHeaders(req);
		securityHeaders(req, res, true);
		refuseBody(req, res, bodyLimit(req));
		return;
	}
	res.writeContinue();
	onRequest(req, res);
});

server.on('upgrade', (req, socket, head) => {
	if (!isApiPath(req.url)) {
		socket.destroy();
		return;
	}
	forwardedHeaders(req);
	apiForwardedFor(req);
	proxy.ws(req, socket, head);
});

server.listen(PORT, HOST, () => {
	console.log(`[web] listening on http://${HOST}:${PORT} (API ${API_URL})`);
});

function shutdown(signal) {
	console.log(`[web] ${signal}: shutting down`);
	server.close(() => process.exit(0));
	server.closeIdleConnections?.();
	// Open WebSockets never end on their own; do not let them hold the process.
	setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
