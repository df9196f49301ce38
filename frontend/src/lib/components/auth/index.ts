export { default as AuthForm } from './AuthForm.svelte';
export { default as AuthShell } from './AuthShell.svelte';
export { default as EmailField } from './EmailField.svelte';
export { default as FormAlert } from './FormAlert.svelte';
export { withRedirect } from './links';
