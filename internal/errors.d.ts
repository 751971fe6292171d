export interface NodeError extends Error {
    code: string;
}
export declare function nodeError<E extends Error>(Ctor: new (message: string) => E, code: string, message: string): E & NodeError;
/** An error as a failed system call gives it: `code` the errno name, `errno` negative, `syscall` the call (or ioctl) that would have failed. */
export declare function osError(code: string, errno: number, syscall: string, message: string): Error & NodeError & {
    errno: number;
    syscall: string;
};
export declare function describe(v: unknown): string;
export declare function invalidType(method: string, name: string, expected: string, got: unknown): TypeError;
export declare function invalidValue(method: string, name: string, message: string): TypeError;
export declare function outOfRange(method: string, name: string, expected: string, got: unknown): RangeError;
export declare function invalidThis(method: string, cls: string): TypeError;
export declare function illegalConstructor(cls: string): TypeError;
export declare function closedError(method: string, cls: string): Error;
export declare function abortError(method: string, signal: AbortSignal): Error;
