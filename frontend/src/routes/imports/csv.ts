// A small RFC 4180 reader for the import wizard's preview: the header and the first rows of an
// uploaded file, read on the web server. The API reads the whole file itself (and is the judge of
// what is imported); this only has to show the same columns and cells the API will see.
//
// Like the API it guesses the delimiter from the header line, takes a byte-order mark off, and is
// lenient where RFC 4180 is strict (a quote inside an unquoted cell is kept as it is).

/** The delimiters the API recognises, in the order it prefers them on a tie. */
export const DELIMITERS = [',', ';', '\t', '|'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

/** The delimiter of a file: the candidate its header line has most of, outside quotes. */
export function guessDelimiter(text: string): Delimiter {
	const counts = new Map<string, number>();
	let quoted = false;
	for (const char of text) {
		if (char === '"') quoted = !quoted;
		else if (!quoted && (char === '\n' || char === '\r')) break;
		else if (!quoted) counts.set(char, (counts.get(char) ?? 0) + 1);
	}
	let best: Delimiter = ',';
	for (const candidate of DELIMITERS) {
		if ((counts.get(candidate) ?? 0) > (counts.get(best) ?? 0)) best = candidate;
	}
	return best;
}

export interface CsvOptions {
	/** Guessed from the header line when not given. */
	delimiter?: string;
	/** Stop after this many records (the header counts as one). */
	maxRecords?: number;
	/**
	 * `text` is only the beginning of the file: a last record that does not end with a line
	 * break may be cut short, so it is left out.
	 */
	truncated?: boolean;
}

/** The records of CSV `text`, each a list of cells. Blank lines are skipped. */
export function parseCsv(text: string, options: CsvOptions = {}): string[][] {
	const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
	const delimiter = options.delimiter ?? guessDelimiter(source);
	const maxRecords = options.maxRecords ?? Infinity;
	const records: string[][] = [];
	let record: string[] = [];
	let cell = '';
	let quoted = false; // inside a quoted cell
	let started = false; // the current record has a character in it

	const endRecord = () => {
		record.push(cell);
		if (record.length > 1 || record[0] !== '') records.push(record);
		record = [];
		cell = '';
		started = false;
	};

	let i = 0;
	while (i < source.length && records.length < maxRecords) {
		const char = source[i];
		if (quoted) {
			if (char === '"') {
				if (source[i + 1] === '"') {
					cell += '"';
					i += 2;
					continue;
				}
				quoted = false;
			} else {
				cell += char;
			}
			i += 1;
			continue;
		}
		if (char === '"' && cell === '') {
			quoted = true;
			started = true;
		} else if (char === delimiter) {
			record.push(cell);
			cell = '';
			started = true;
		} else if (char === '\r' || char === '\n') {
			endRecord();
			if (char === '\r' && source[i + 1] === '\n') i += 1;
		} else {
			cell += char;
			started = true;
		}
		i += 1;
	}
	if (records.length < maxRecords && (started || cell !== '') && !options.truncated) endRecord();
	return records;
}
