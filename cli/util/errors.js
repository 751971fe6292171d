"use strict";
// Exit codes and the two errors the command reports without a stack trace.
Object.defineProperty(exports, "__esModule", { value: true });
exports.CliError = exports.UsageError = exports.EXIT_UNSUPPORTED = exports.EXIT_USAGE = exports.EXIT_FAIL = void 0;
exports.EXIT_FAIL = 1;
exports.EXIT_USAGE = 2;
exports.EXIT_UNSUPPORTED = 3;
/** Bad usage: printed as one line, exit code 2. */
class UsageError extends Error {
}
exports.UsageError = UsageError;
/** A failure with a message for the user: one line, its own exit code. */
class CliError extends Error {
    exitCode;
    constructor(message, exitCode = exports.EXIT_FAIL) {
        super(message);
        this.exitCode = exitCode;
    }
}
exports.CliError = CliError;
