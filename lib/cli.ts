#!/usr/bin/env node
// The `dmabuf` command (the package's bin): `dmabuf info`, `dmabuf ls`,
// `dmabuf demo`. One module per command under lib/cli/commands/, over the
// shared helpers in lib/cli/util/, written over the public classes of
// ./index only; compiled by `tsc -p tsconfig.cli.json` into cli.js at the
// package root and cli/ beside it.
//
// Exit codes: 0 success; 1 failure (an error, or the demo's check failed);
// 2 bad usage; 3 this system has no dma-buf exporter to run on.

import { run } from './cli/main'

export { LS_SCHEMA } from './cli/commands/ls'

if (require.main === module) run(process.argv.slice(2))
