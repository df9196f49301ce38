// A Vitest environment for tests of Svelte runes (`*.svelte.test.ts`): Node's globals, but modules
// compiled and resolved as for the browser, where `$effect` runs (server-side it never does).
import type { Environment } from 'vitest/environments';

export default {
	name: 'runes',
	viteEnvironment: 'client',
	setup: () => ({ teardown: () => {} })
} satisfies Environment;
