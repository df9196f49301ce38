// What an edit form starts from, while the issue underneath it changes live.
//
// A form that has not been touched follows the issue (its fields and the version it sends in
// If-Match). Once the viewer types, their input is never overwritten: a change by someone else to
// *other* fields only moves the form's version forward (saving then does not fail for nothing),
// while a change to the *same* fields keeps the old version, so saving is refused (412) instead
// of silently undoing the other person's change, and the form says so.
import { untrack } from 'svelte';

export interface Snapshot<T> {
	version: number;
	values: T;
}

function same<T extends Record<string, unknown>>(a: T, b: T): boolean {
	return Object.keys(a).every((key) => a[key] === b[key]);
}

export class Draft<T extends Record<string, unknown>> {
	/** The version the form sends in If-Match. */
	version = $state(0);
	/**
	 * The field values the form starts from. Reassigned only when they differ: a field whose value
	 * expression re-runs gives up what was typed into it, even for an equal value.
	 */
	values: T = $state.raw() as T;
	/** The viewer has typed into the form since it last matched the issue. */
	dirty = $state(false);
	/** Someone else changed these fields while the viewer was typing. */
	changedElsewhere = $state(false);
	/** Bumped by `discard`, so fields holding typed text are rebuilt from `values`. */
	generation = $state(0);
	#latest: Snapshot<T>;

	constructor(current: () => Snapshot<T>) {
		this.#latest = untrack(current);
		this.version = this.#latest.version;
		this.values = this.#latest.values;
		$effect.pre(() => {
			const next = current();
			untrack(() => this.#follow(next));
		});
	}

	#follow(next: Snapshot<T>): void {
		this.#latest = next;
		if (!this.dirty) {
			this.#show(next);
			this.changedElsewhere = false;
		} else if (same(next.values, this.values)) {
			this.version = next.version;
		} else {
			this.changedElsewhere = true;
		}
	}

	#show(next: Snapshot<T>): void {
		this.version = next.version;
		if (!same(next.values, this.values)) this.values = next.values;
	}

	/** For the form's `oninput`. */
	edited = (): void => {
		this.dirty = true;
	};

	/** Saved: the page reloads its data next, and the form follows it again. */
	saved = (): void => {
		this.dirty = false;
		this.changedElsewhere = false;
	};

	/** Throw away what was typed and show the latest version (re-key the fields on `generation`). */
	discard = (): void => {
		this.saved();
		this.#show(this.#latest);
		this.generation += 1;
	};
}
