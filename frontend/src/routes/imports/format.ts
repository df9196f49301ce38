// How the import pages show states, sizes and refused rows.
import type { Tone } from '$lib/components/ui';
import type { Schemas } from '$lib/server/api';

type ImportState = Schemas['ImportState'];

const STATE: Record<ImportState, { label: string; tone: Tone }> = {
	queued: { label: 'Queued', tone: 'neutral' },
	running: { label: 'Running', tone: 'blue' },
	done: { label: 'Done', tone: 'green' },
	failed: { label: 'Failed', tone: 'red' }
};

export const stateLabel = (state: ImportState): string => STATE[state]?.label ?? state;
export const stateTone = (state: ImportState): Tone => STATE[state]?.tone ?? 'neutral';
export const isActive = (state: ImportState): boolean => state === 'queued' || state === 'running';

/** Refused rows listed before "and N more". */
export const REFUSALS_SHOWN = 20;

/** Where a refused row is in its file: the CSV line (the header is line 1) or the JSON item. */
export function rowLabel(format: string, row: number): string {
	return format === 'json' ? `Item ${row}` : `Line ${row}`;
}

export function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${bytes} bytes`;
	if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
	return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export const count = (n: number): string => n.toLocaleString('en');

/** "1 issue", "3 issues". */
export function plural(n: number, one: string, many = `${one}s`): string {
	return `${count(n)} ${n === 1 ? one : many}`;
}
