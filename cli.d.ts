#!/usr/bin/env node
/** The version of `dmabuf ls --json`'s document; see schema/dmabuf-ls.schema.json. */
export declare const LS_SCHEMA = "dmabuf-ls/1";
