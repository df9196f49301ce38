export { default as AttachmentUploader } from './AttachmentUploader.svelte';
export { default as AttachmentList } from './AttachmentList.svelte';
export {
	ACCEPT_ATTRIBUTE,
	ACCEPTED_DESCRIPTION,
	DEFAULT_MAX_BYTES,
	DEFAULT_MAX_FILES,
	checkFile,
	formatBytes,
	type Attachment
} from './files';
