#!/usr/bin/env node
"use strict";
// The `dmabuf` command (the package's bin): `dmabuf info`, `dmabuf ls`,
// `dmabuf demo`. One module per command under lib/cli/commands/, over the
// shared helpers in lib/cli/util/, written over the public classes of
// ./index only; compiled by `tsc -p tsconfig.cli.json` into cli.js at the
// package root and cli/ beside it.
//
// Exit codes: 0 success; 1 failure (an error, or the demo's check failed);
// 2 bad usage; 3 this system has no dma-buf exporter to run on.
Object.defineProperty(exports, "__esModule", { value: true });
exports.LS_SCHEMA = void 0;
const main_1 = require("./cli/main");
var ls_1 = require("./cli/commands/ls");
Object.defineProperty(exports, "LS_SCHEMA", { enumerable: true, get: function () { return ls_1.LS_SCHEMA; } });
if (require.main === module)
    (0, main_1.run)(process.argv.slice(2));
