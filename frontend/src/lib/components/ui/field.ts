import { cx } from './cx';

/** aria-describedby for a control inside Field: hint first, then the error. */
export function describedBy(id: string, hint?: string, error?: string, extra?: string | null) {
	return cx(hint && `${id}-hint`, error && `${id}-error`, extra) || undefined;
}

/** Shared look of text controls (input, textarea, select). */
export function controlClass(invalid: boolean, extra?: string) {
	return cx(
		'block w-full rounded-md border bg-surface px-3 text-sm text-fg shadow-card transition-colors placeholder:text-fg-subtle',
		'focus:border-ring focus:ring-2 focus:ring-ring/30 focus:outline-none',
		'disabled:cursor-not-allowed disabled:bg-surface-muted disabled:text-fg-subtle',
		invalid ? 'border-danger' : 'border-border-strong hover:border-fg-subtle',
		extra
	);
}
