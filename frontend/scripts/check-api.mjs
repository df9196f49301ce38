// Fails when src/lib/api/schema.d.ts is stale, i.e. openapi.json changed but `npm run gen:api` was
// not run (or the generated file was edited by hand). CI runs this after `tracker openapi`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const input = 'src/lib/api/openapi.json';
const committed = 'src/lib/api/schema.d.ts';
const dir = mkdtempSync(join(tmpdir(), 'tracker-api-'));
const fresh = join(dir, 'schema.d.ts');

try {
	const run = spawnSync('openapi-typescript', [input, '-o', fresh], {
		stdio: ['ignore', 'ignore', 'inherit'],
		shell: process.platform === 'win32'
	});
	if (run.status !== 0) {
		console.error(`check:api: openapi-typescript failed on ${input}`);
		process.exit(run.status ?? 1);
	}
	let current = '';
	try {
		current = readFileSync(committed, 'utf8');
	} catch {
		console.error(`check:api: ${committed} is missing. Run \`npm run gen:api\` and commit it.`);
		process.exit(1);
	}
	if (readFileSync(fresh, 'utf8') !== current) {
		console.error(
			`check:api: ${committed} is out of date with ${input}.\n` +
				'Run `npm run gen:api` in frontend/ and commit the result.'
		);
		process.exit(1);
	}
	console.log(`check:api: ${committed} matches ${input}.`);
} finally {
	rmSync(dir, { recursive: true, force: true });
}
