/** The key a class's constructor demands: objects come from this package's factories only. */
export declare const token: unique symbol;
export declare function own(obj: object, h: number): void;
/** Stops tracking `obj` (it is being closed). */
export declare function forget(obj: object): void;
/** `h` if it is live, else `ERR_DMABUF_CLOSED` naming the method. */
export declare function live(h: number, method: string, what: string): number;
/** What close() does with a handle: releases it if still live; returns the closed marker to store. */
export declare function closeOnce(obj: object, h: number): number;
export declare function disown(obj: object, h: number): void;
/** Closes a handle that no object holds. */
export declare function closeHandle(h: number): void;
