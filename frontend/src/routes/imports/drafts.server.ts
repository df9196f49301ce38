// The file an import wizard is working on, kept on the web server between its steps.
//
// Why here and not re-uploaded: the wizard works without JavaScript, and a plain form cannot send
// a file again by itself — a file input is empty on every new page, so each change of the mapping
// would mean choosing the file again. Sending the file's content back and forth in a hidden field
// would put up to 10 MB into every page. So the upload step keeps the file in a temporary folder
// under a random id, and the next steps carry only that id (a hidden field). The id is 128 random
// bits and the draft also records who uploaded it: nobody else can use it. Drafts are deleted once
// imported, and any older than an hour are swept whenever a new one is made. A draft that is gone
// (expired, the web server restarted or a second replica answered) is reported, and the person
// chooses the file again: the wizard never imports something it did not show.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from '$env/dynamic/private';
import type { ImportFormat } from './preview';

/** How long an uploaded file waits for its import. */
export const DRAFT_TTL_MS = 60 * 60 * 1000;
const ID = /^[0-9a-f]{32}$/;

export interface DraftMeta {
	owner: number;
	filename: string;
	format: ImportFormat;
	size: number;
	createdAt: number;
}

export interface Draft extends DraftMeta {
	id: string;
	bytes: Uint8Array;
}

function folder(): string {
	return env.IMPORT_DRAFT_DIR || join(tmpdir(), 'tracker-import-drafts');
}

const paths = (id: string) => ({
	data: join(folder(), `${id}.data`),
	meta: join(folder(), `${id}.json`)
});

/** Keep an uploaded file for the wizard; returns its id. */
export async function saveDraft(
	owner: number,
	filename: string,
	format: ImportFormat,
	bytes: Uint8Array
): Promise<string> {
	await mkdir(folder(), { recursive: true, mode: 0o700 });
	void sweepDrafts().catch(() => {});
	const id = randomBytes(16).toString('hex');
	const meta: DraftMeta = {
		owner,
		filename: filename.slice(0, 255) || 'import',
		format,
		size: bytes.length,
		createdAt: Date.now()
	};
	const { data, meta: metaPath } = paths(id);
	await writeFile(data, bytes, { mode: 0o600 });
	await writeFile(metaPath, JSON.stringify(meta), { mode: 0o600 });
	return id;
}

/** The draft `id` of `owner`, or null when there is none (or it expired, or is someone else's). */
export async function openDraft(id: string, owner: number): Promise<Draft | null> {
	if (!ID.test(id)) return null;
	const { data, meta: metaPath } = paths(id);
	let meta: DraftMeta;
	try {
		meta = JSON.parse(await readFile(metaPath, 'utf8')) as DraftMeta;
	} catch {
		return null;
	}
	if (meta.owner !== owner) return null;
	if (Date.now() - meta.createdAt > DRAFT_TTL_MS) {
		await discardDraft(id);
		return null;
	}
	try {
		return { ...meta, id, bytes: new Uint8Array(await readFile(data)) };
	} catch {
		return null;
	}
}

export async function discardDraft(id: string): Promise<void> {
	if (!ID.test(id)) return;
	const { data, meta } = paths(id);
	await Promise.all([rm(data, { force: true }), rm(meta, { force: true })]);
}

let lastSweep = 0;

/** Delete drafts older than their time to live (at most once a minute). */
export async function sweepDrafts(now = Date.now()): Promise<void> {
	if (now - lastSweep < 60_000) return;
	lastSweep = now;
	for (const name of await readdir(folder())) {
		const file = join(folder(), name);
		const info = await stat(file).catch(() => null);
		if (info && now - info.mtimeMs > DRAFT_TTL_MS) await rm(file, { force: true });
	}
}
