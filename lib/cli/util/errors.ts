// Exit codes and the two errors the command reports without a stack trace.

export const EXIT_FAIL = 1
export const EXIT_USAGE = 2
export const EXIT_UNSUPPORTED = 3

/** Bad usage: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** A failure with a message for the user: one line, its own exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = EXIT_FAIL) {
    super(message)
  }
}
