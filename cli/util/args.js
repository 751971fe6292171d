"use strict";
// Argument parsing shared by the commands.
Object.defineProperty(exports, "__esModule", { value: true });
exports.seen = void 0;
exports.parse = parse;
exports.positiveInt = positiveInt;
exports.sizeArg = sizeArg;
const errors_1 = require("./errors");
/** Whether a command's arguments held -v/--verbose as an option (not as another option's value): main.ts reads it for errors. */
exports.seen = { verbose: false };
function parse(argv, spec, command) {
    const a = { _: [] };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === '--') {
            // The end of the options: what follows is taken as it is.
            a._.push(...argv.slice(i + 1));
            break;
        }
        if (!arg.startsWith('-') || arg === '-') {
            a._.push(arg);
            continue;
        }
        let [name, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
        if (name === '-h')
            name = '--help';
        if (name === '-v')
            name = '--verbose';
        const key = name.replace(/^--/, '');
        if (spec.flags.includes(key) || key === 'help' || key === 'verbose') {
            if (value !== undefined)
                throw new errors_1.UsageError(`${command}: --${key} takes no value`);
            a[key] = true;
            if (key === 'verbose')
                exports.seen.verbose = true;
        }
        else if (spec.values.includes(key)) {
            if (value === undefined) {
                value = argv[++i];
                if (value === undefined)
                    throw new errors_1.UsageError(`${command}: --${key} needs a value`);
            }
            if (spec.multi?.includes(key))
                a[key] = [...(a[key] ?? []), value];
            else
                a[key] = value;
        }
        else {
            throw new errors_1.UsageError(`${command}: unknown option ${name} (see dmabuf ${command} --help)`);
        }
    }
    return a;
}
function positiveInt(command, name, v, dflt, max = 1e9) {
    if (v === undefined)
        return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max)
        throw new errors_1.UsageError(`${command}: --${name} must be a whole number from 1 to ${max}, not '${v}'`);
    return n;
}
function sizeArg(command, name, v, dflt) {
    if (v === undefined)
        return dflt;
    const m = /^(\d+)\s*([kKmMgG]?)(i?B)?$/.exec(v);
    if (!m)
        throw new errors_1.UsageError(`${command}: --${name} must be a size such as 4096, 64K or 8M, not '${v}'`);
    const n = Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()];
    if (n < 4096 || n % 4096 !== 0)
        throw new errors_1.UsageError(`${command}: --${name} must be a multiple of 4096 bytes, not ${n}`);
    return n;
}
