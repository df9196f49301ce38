// `@` autocomplete in the Markdown editor: which `@handle` is being typed at the caret, and the
// text once a person is chosen. The rules follow how the tracker finds mentions when it renders
// Markdown (a handle of letters, digits, '_' and '-', not after a letter, digit, '@', '/', '.',
// '_' or '-', so an e-mail address or a path is not a mention).

/** The `@word` at the caret: from its '@' (`start`) to the end of the word (`end`). */
export interface MentionQuery {
	start: number;
	end: number;
	/** What is typed between the '@' and the caret. */
	query: string;
}

/** Handles are at most this long; the people search takes no more either. */
export const QUERY_MAX = 39;

const HANDLE_CHAR = /[A-Za-z0-9_-]/;
const NOT_BEFORE_AT = /[\p{L}\p{N}_@/.-]/u;

/** The mention being typed at `caret` in `text`, or null when the caret is not in one. */
export function mentionQueryAt(text: string, caret: number): MentionQuery | null {
	if (!Number.isInteger(caret) || caret < 1 || caret > text.length) return null;
	let from = caret;
	while (from > 0 && HANDLE_CHAR.test(text[from - 1])) from -= 1;
	const at = from - 1;
	if (at < 0 || text[at] !== '@') return null;
	if (at > 0 && NOT_BEFORE_AT.test(text[at - 1])) return null;
	const query = text.slice(from, caret);
	if (query.length === 0 || query.length > QUERY_MAX) return null;
	let end = caret;
	while (end < text.length && HANDLE_CHAR.test(text[end])) end += 1;
	return { start: at, end, query };
}

/**
 * `text` with the mention at `match` replaced by `@username ` (the space kept single when one
 * follows already), and where the caret goes: after that space.
 */
export function insertMention(
	text: string,
	match: Pick<MentionQuery, 'start' | 'end'>,
	username: string
): { text: string; caret: number } {
	const before = text.slice(0, match.start);
	const after = text.slice(match.end);
	const handle = `@${username}`;
	if (after.startsWith(' ')) {
		return { text: before + handle + after, caret: before.length + handle.length + 1 };
	}
	return { text: `${before}${handle} ${after}`, caret: before.length + handle.length + 1 };
}

/** The option after (`step` 1) or before (-1) `index` among `count`, wrapping around. */
export function moveActive(index: number, step: 1 | -1, count: number): number {
	if (count <= 0) return -1;
	if (index < 0) return step === 1 ? 0 : count - 1;
	return (index + step + count) % count;
}
