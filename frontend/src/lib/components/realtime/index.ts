export { default as ConnectionIndicator } from './ConnectionIndicator.svelte';
export { default as PresenceAvatars } from './PresenceAvatars.svelte';
