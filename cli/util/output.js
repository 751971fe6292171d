"use strict";
// Output: colours only on a terminal (and never with NO_COLOR), sizes, tables.
Object.defineProperty(exports, "__esModule", { value: true });
exports.yellow = exports.red = exports.green = exports.dim = exports.bold = exports.tty = void 0;
exports.out = out;
exports.bytes = bytes;
exports.table = table;
const untrusted_1 = require("./untrusted");
exports.tty = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code) => (s) => (exports.tty ? `\x1b[${code}m${s}\x1b[0m` : s);
exports.bold = paint('1');
exports.dim = paint('2');
exports.green = paint('32');
exports.red = paint('31');
exports.yellow = paint('33');
function out(line = '') {
    process.stdout.write(line + '\n');
}
function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = n;
    let u = 0;
    while (v >= 1024 && u < units.length - 1) {
        v /= 1024;
        u++;
    }
    return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}
function table(head, rows, right) {
    const visible = (s) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
    // A loop, not Math.max(...rows): spreading ~120,000 rows overflows the stack.
    const w = (0, untrusted_1.columnWidths)(head, rows, visible);
    const fmt = (r, isHead = false) => r
        .map((c, i) => {
        const pad = ' '.repeat(w[i] - visible(c));
        const cell = right[i] ? pad + c : c + pad;
        return isHead ? (0, exports.bold)(cell) : cell;
    })
        .join('  ')
        .trimEnd();
    return [fmt(head, true), ...rows.map((r) => fmt(r))];
}
