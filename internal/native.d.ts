import type * as Native from '../native';
export declare const native: typeof Native;
/**
 * The shared argument array of the fast calls: slots `Arg.*` in, `Out.*`
 * out. Modules copy it into a module constant of their own (`const A =
 * args`): an import is read through the exports object, a constant is not.
 */
export declare const args: Float64Array<ArrayBuffer>;
