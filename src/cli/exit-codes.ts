/** Exit codes of the `storyforge` commands: 0 all done, 1 some story failed, 2 usage error, 130 interrupted (128 + SIGINT). */
export const EXIT = { ok: 0, someFailed: 1, usage: 2, interrupted: 130 } as const;
