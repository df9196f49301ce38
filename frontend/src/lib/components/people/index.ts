export { default as Handle } from './Handle.svelte';
export { provideHandles, type Handles } from './handles';
