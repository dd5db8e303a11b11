/** Exit codes of the CLI: 0 all saved, 1 some item failed, 2 usage or setup error, 130/143 stopped by SIGINT/SIGTERM. */
export const EXIT = { ok: 0, someFailed: 1, usage: 2, interrupted: 130, terminated: 143 } as const;
