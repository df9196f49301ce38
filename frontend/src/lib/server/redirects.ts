// Where a form may send the browser back to. Every "redirectTo" the pages accept (sign-in, sign-up,
// external sign-in, the theme switch) goes through samePath: an open redirect would let a link that
// starts on this tracker end on someone else's site.

const BASE = 'http://same.invalid';

/** Control characters: URL parsers drop tabs and newlines, which turns "/\t/x" into "//x". */
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * `target` as a path on this origin (path, query and fragment), or null when it is anything else:
 * absolute or protocol-relative URLs (`https://x`, `//x`), backslashes that browsers read as
 * slashes (`/\x`), slashes hidden by percent-encoding (`/%2F%2Fx`), control characters.
 */
export function samePath(target: string | null | undefined): string | null {
	if (!target || !target.startsWith('/') || target.startsWith('//')) return null;
	if (target.includes('\\') || CONTROL.test(target)) return null;
	let parsed: URL;
	let decoded: string;
	try {
		parsed = new URL(target, BASE);
		decoded = decodeURIComponent(parsed.pathname);
	} catch {
		return null;
	}
	if (parsed.origin !== BASE) return null;
	// Decoded, the path must still be one path: a router that decodes it must not see "//x".
	if (decoded.startsWith('//') || decoded.includes('\\') || CONTROL.test(decoded)) return null;
	return parsed.pathname + parsed.search + parsed.hash;
}
