// The @handles a page knows, by user id, for the names it shows. A page provides them once
// (`provideHandles`); every <Handle> below it looks its person up.
import { getContext, setContext } from 'svelte';

export type Handles = Record<number, string>;

const KEY = Symbol('handles');

/** Make `handles` (read again on every change, e.g. when the page's data reloads) available to
 * the components below. */
export function provideHandles(handles: () => Handles): void {
	setContext(KEY, handles);
}

/** The handles provided above this component, or none. Call during component set-up. */
export function providedHandles(): () => Handles {
	return getContext<(() => Handles) | undefined>(KEY) ?? (() => ({}));
}
