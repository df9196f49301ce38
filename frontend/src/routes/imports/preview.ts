// The columns and first rows of an uploaded import file, for the wizard to show. Only the start of
// a CSV file is read; a JSON file has to be parsed whole (the API takes at most 10 MB anyway).
import { parseCsv } from './csv';

export type ImportFormat = 'csv' | 'json';

/** Rows the preview shows. */
export const PREVIEW_ROWS = 5;
/** Bytes of a CSV file read for its preview: enough for the header and a few long rows. */
export const PREVIEW_BYTES = 256 * 1024;
/** The largest file the API imports. */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;
/** Characters of a cell shown; a 50,000-character description is not previewed whole. */
const CELL_CHARS = 160;

export interface Preview {
	/** The file's column names, as the file writes them. */
	columns: string[];
	/** The first rows, one cell per column ('' where a row has none). */
	rows: string[][];
}

export class PreviewError extends Error {}

/** The format of a file: JSON by its name or type, CSV otherwise (as the API guesses). */
export function formatOf(name: string, type = ''): ImportFormat {
	return name.toLowerCase().endsWith('.json') || type === 'application/json' ? 'json' : 'csv';
}

function shorten(text: string): string {
	return text.length > CELL_CHARS ? `${text.slice(0, CELL_CHARS - 1)}…` : text;
}

function cellText(value: unknown): string {
	if (value === null || value === undefined) return '';
	if (typeof value === 'string') return shorten(value);
	if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
		return shorten(value.map((v) => String(v ?? '')).join(', '));
	}
	return shorten(typeof value === 'object' ? JSON.stringify(value) : String(value));
}

function csvPreview(bytes: Uint8Array): Preview {
	const head = bytes.subarray(0, PREVIEW_BYTES);
	const text = new TextDecoder('utf-8').decode(head);
	const records = parseCsv(text, {
		maxRecords: PREVIEW_ROWS + 1,
		truncated: bytes.length > head.length
	});
	const [header, ...rows] = records;
	if (!header || header.every((name) => name.trim() === '')) {
		throw new PreviewError('The file is empty: it needs a header row naming its columns.');
	}
	return {
		columns: header,
		rows: rows.map((row) => header.map((_, i) => shorten(row[i] ?? '')))
	};
}

function jsonPreview(bytes: Uint8Array): Preview {
	let items: unknown;
	try {
		items = JSON.parse(new TextDecoder('utf-8').decode(bytes));
	} catch {
		throw new PreviewError('The file is not valid JSON.');
	}
	if (
		!Array.isArray(items) ||
		!items.every((i) => i && typeof i === 'object' && !Array.isArray(i))
	) {
		throw new PreviewError('A JSON import is an array of objects, one per issue.');
	}
	const objects = items as Record<string, unknown>[];
	// Every key of every item, in the order they first appear: the API reads them the same way.
	const columns = [...new Set(objects.flatMap((item) => Object.keys(item)))];
	if (columns.length === 0) throw new PreviewError('The file holds no issues.');
	return {
		columns,
		rows: objects.slice(0, PREVIEW_ROWS).map((item) => columns.map((c) => cellText(item[c])))
	};
}

/** The preview of a file; throws PreviewError when it cannot be read as `format`. */
export function previewOf(bytes: Uint8Array, format: ImportFormat): Preview {
	if (bytes.length > MAX_IMPORT_BYTES) {
		throw new PreviewError('An import file is at most 10 MB: split it into smaller files.');
	}
	return format === 'json' ? jsonPreview(bytes) : csvPreview(bytes);
}
