/**
 * An error a control command answers with: its message is what initctl prints after `initctl: `
 * (Upstart's words). Anything else thrown by a command is a bug.
 */
export class CommandError extends Error {}
