// What the browser can check before an upload (the server checks again, from the bytes), and the
// upload itself over XHR, the one browser API that reports upload progress.
import type { components } from '$lib/api/schema';
import type { Problem } from '$lib/api/problem';

export type Attachment = components['schemas']['AttachmentOut'];

export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_FILES = 20;

/** Extensions the server accepts (it decides by content; this only saves a pointless upload). */
export const ACCEPTED_EXTENSIONS = [
	'png',
	'jpg',
	'jpeg',
	'gif',
	'webp',
	'pdf',
	'txt',
	'log',
	'csv',
	'tsv',
	'json',
	'md'
] as const;
/** For `<input accept>`: extensions and types the file picker offers. */
export const ACCEPT_ATTRIBUTE = [
	...ACCEPTED_EXTENSIONS.map((e) => `.${e}`),
	'image/png',
	'image/jpeg',
	'image/gif',
	'image/webp',
	'application/pdf',
	'text/plain',
	'text/csv',
	'application/json'
].join(',');
export const ACCEPTED_DESCRIPTION = 'PNG, JPEG, GIF, WebP, PDF, text, CSV, JSON or log files';

const REFUSED_EXTENSIONS = new Set(['html', 'htm', 'xhtml', 'svg', 'svgz', 'xml', 'js', 'mjs']);
const BINARY_TYPES = new Set([
	'image/png',
	'image/jpeg',
	'image/gif',
	'image/webp',
	'application/pdf'
]);

export function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
	return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
}

function extensionOf(name: string): string {
	const dot = name.lastIndexOf('.');
	return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** Why this file will be refused, or null if it may go up. */
export function checkFile(file: File, maxBytes: number = DEFAULT_MAX_BYTES): string | null {
	if (file.size === 0) return `${file.name} is empty.`;
	if (file.size > maxBytes)
		return `${file.name} is ${formatBytes(file.size)}; files can be at most ${formatBytes(maxBytes)}.`;
	const ext = extensionOf(file.name);
	if (REFUSED_EXTENSIONS.has(ext) || file.type === 'image/svg+xml' || file.type === 'text/html')
		return `${file.name}: this type of file is not accepted. Attach ${ACCEPTED_DESCRIPTION}.`;
	const known =
		(ACCEPTED_EXTENSIONS as readonly string[]).includes(ext) || BINARY_TYPES.has(file.type);
	const looksText =
		file.type === '' || file.type.startsWith('text/') || file.type === 'application/json';
	if (!known && !looksText)
		return `${file.name}: this type of file is not accepted. Attach ${ACCEPTED_DESCRIPTION}.`;
	return null;
}

/** The body as JSON, or undefined when it is not. */
function parsed(body: string): unknown {
	try {
		return JSON.parse(body);
	} catch {
		return undefined;
	}
}

/**
 * A readable message for a failed request, from its problem+json body when there is one. `body` is
 * the response text, or what the typed client already parsed from it.
 */
export function problemMessage(status: number, body: unknown): string {
	const problem = typeof body === 'string' ? parsed(body) : body;
	if (problem && typeof problem === 'object') {
		const { detail, title } = problem as Partial<Pick<Problem, 'detail' | 'title'>>;
		if (detail) return detail;
		if (title) return title;
	}
	if (status === 0) return 'The upload was interrupted. Check your connection and try again.';
	if (status === 413) return 'The file is too large.';
	if (status === 415) return 'This type of file is not accepted.';
	return `The upload failed (HTTP ${status}).`;
}

/** A failed upload; `retryable` when trying again may help (network or server trouble). */
export class UploadError extends Error {
	constructor(
		message: string,
		readonly retryable: boolean
	) {
		super(message);
	}
}

export interface UploadHandle {
	promise: Promise<Attachment[]>;
	abort: () => void;
}

/** POST one file to an issue, reporting progress (0–1); same-origin, so the session cookie goes. */
export function uploadFile(
	issueId: number,
	file: File,
	onProgress: (fraction: number) => void
): UploadHandle {
	const xhr = new XMLHttpRequest();
	const promise = new Promise<Attachment[]>((resolve, reject) => {
		xhr.open('POST', `/api/issues/${issueId}/attachments`);
		xhr.responseType = 'text';
		xhr.setRequestHeader('Accept', 'application/json');
		xhr.upload.onprogress = (event) => {
			if (event.lengthComputable) onProgress(event.loaded / event.total);
		};
		xhr.onload = () => {
			if (xhr.status === 201) {
				onProgress(1);
				resolve(JSON.parse(xhr.responseText) as Attachment[]);
			} else {
				const message = problemMessage(xhr.status, xhr.responseText);
				reject(new UploadError(message, xhr.status >= 500 || xhr.status === 429));
			}
		};
		xhr.onerror = () => reject(new UploadError(problemMessage(0, ''), true));
		xhr.onabort = () => reject(new UploadError('Upload cancelled.', false));
		const body = new FormData();
		body.append('file', file, file.name);
		xhr.send(body);
	});
	return { promise, abort: () => xhr.abort() };
}
