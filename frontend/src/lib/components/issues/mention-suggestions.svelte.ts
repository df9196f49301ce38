// The people suggested while an `@handle` is typed in the Markdown editor: what is being typed
// (from the caret), who matches (asked of the server, remembered per query), which one is active,
// and the text once one is chosen. The editor feeds it the text and caret and its keys.
import {
	insertMention,
	mentionQueryAt,
	moveActive,
	type MentionQuery
} from '$lib/notifications/mentions';

export interface Mentionable {
	id: number;
	username: string;
	full_name: string;
}

/** Who matches `query` (lowercase, without the '@'). */
export type PeopleSource = (query: string) => Promise<Mentionable[]>;

/** Typing pauses this long before the server is asked. */
export const SEARCH_DELAY_MS = 80;

/** How the server matches, applied to what is shown already while it is asked again. */
function matches(person: Mentionable, query: string): boolean {
	const name = person.full_name.toLowerCase();
	return person.username.startsWith(query) || name.startsWith(query) || name.includes(` ${query}`);
}

export class MentionSuggestions {
	/** The `@word` at the caret, or null. */
	match = $state.raw<MentionQuery | null>(null);
	people = $state.raw<Mentionable[]>([]);
	/** The option Enter or Tab would choose; -1 for none. */
	active = $state(-1);
	/** The listbox's id; its options are `<id>-<index>`. */
	readonly id: string;

	#source: PeopleSource;
	#cache = new Map<string, Mentionable[]>();
	#timer: ReturnType<typeof setTimeout> | undefined;
	#ticket = 0;
	// Escape closes the suggestions for the mention being typed (the '@' at this index).
	#dismissed = $state<number | null>(null);

	constructor(id: string, source: PeopleSource) {
		this.id = id;
		this.#source = source;
	}

	get open(): boolean {
		return this.match !== null && this.people.length > 0 && this.#dismissed !== this.match.start;
	}

	optionId(index: number): string {
		return `${this.id}-${index}`;
	}

	/** The active option's id while open, for aria-activedescendant. */
	get activeId(): string | undefined {
		return this.open && this.active >= 0 ? this.optionId(this.active) : undefined;
	}

	/** The text or the caret changed (`caret` null: a selection, or focus left). */
	update(text: string, caret: number | null): void {
		const match = caret === null ? null : mentionQueryAt(text, caret);
		if (!match) {
			this.close();
			return;
		}
		if (this.#dismissed !== null && this.#dismissed !== match.start) this.#dismissed = null;
		const query = match.query.toLowerCase();
		const previous = this.match?.query.toLowerCase();
		this.match = match;
		if (query !== previous) this.#search(query);
	}

	/** Escape: stop suggesting for this mention (typing another one suggests again). */
	dismiss(): void {
		if (this.match) this.#dismissed = this.match.start;
	}

	close(): void {
		clearTimeout(this.#timer);
		this.#ticket += 1;
		this.match = null;
		this.people = [];
		this.active = -1;
	}

	move(step: 1 | -1): void {
		this.active = moveActive(this.active, step, this.people.length);
	}

	/** Choose option `index` (the active one by default): the new text and where the caret goes,
	 * or null when there is nothing to choose. */
	choose(text: string, index = this.active): { text: string; caret: number } | null {
		const person = this.people[index];
		const match = this.match;
		if (!this.open || !person || !match) return null;
		const result = insertMention(text, match, person.username);
		this.close();
		return result;
	}

	#search(query: string): void {
		clearTimeout(this.#timer);
		const ticket = ++this.#ticket;
		const known = this.#cache.get(query);
		if (known) {
			this.#show(known);
			return;
		}
		// Until the server answers, the people shown who still match stay.
		this.#show(this.people.filter((p) => matches(p, query)));
		this.#timer = setTimeout(async () => {
			let found: Mentionable[] = [];
			try {
				found = await this.#source(query);
				this.#cache.set(query, found);
			} catch {
				// Offline or signed out: no suggestions; typing goes on as usual.
			}
			if (ticket === this.#ticket) this.#show(found);
		}, SEARCH_DELAY_MS);
	}

	#show(people: Mentionable[]): void {
		const activeId = this.people[this.active]?.id;
		this.people = people;
		const kept = people.findIndex((p) => p.id === activeId);
		this.active = kept >= 0 ? kept : people.length ? 0 : -1;
	}
}
