/** Most files one batch takes (seed: batch upload of at most 10 files); `UPLOAD_MAX_FILES` may not exceed it. */
export const MAX_BATCH_FILES = 10;
