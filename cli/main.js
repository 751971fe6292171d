"use strict";
// The command's dispatcher: global options, the help table, one module per
// command (lib/cli/commands/*), and how errors reach the terminal.
Object.defineProperty(exports, "__esModule", { value: true });
exports.run = run;
const demo = require("./commands/demo");
const info = require("./commands/info");
const ls = require("./commands/ls");
const errors_1 = require("./util/errors");
const args_1 = require("./util/args");
const output_1 = require("./util/output");
const HELP = `dmabuf: Linux DMA-BUF from the command line

Usage: dmabuf <command> [options]

Commands:
  info    what this system offers: kernel, heaps, udmabuf, DRM, KMS displays,
          V4L2, DVB, Vulkan, ioctls
  ls      every dma-buf on the system, who holds it and who maps it
  demo    a zero-copy pipeline between two processes, against a socket copy;
          --sink kms: frames on a display, timed by their out-fences

Options:
  -h, --help     help (also after a command: dmabuf ls --help)
  -v, --verbose  stack traces with errors
  --version      the package's version

Exit codes: 0 success, 1 failure, 2 bad usage, 3 no dma-buf exporter here.`;
/** Each command: its entry and its help (`dmabuf <command> --help`, `dmabuf help <command>`). */
const COMMANDS = {
    info: { run: info.info, help: info.help },
    ls: { run: ls.ls, help: ls.help },
    demo: { run: demo.demo, help: demo.help },
};
/**
 * Global options, valid anywhere on the line: before the command they are
 * taken out here; after it the command's parser takes them as options
 * (and not where they are another option's value: `--exporter -v`).
 */
const GLOBAL = new Set(['-v', '--verbose']);
async function dispatch(argv) {
    const [command, ...rest] = argv;
    switch (command) {
        case undefined:
            (0, output_1.out)(HELP);
            return errors_1.EXIT_USAGE;
        case '-h':
        case '--help':
        case 'help': {
            const sub = rest.length ? COMMANDS[rest[0]] : undefined;
            (0, output_1.out)(sub ? sub.help : HELP);
            return 0;
        }
        case '--version':
            (0, output_1.out)(require('../package.json').version);
            return 0;
        default: {
            const c = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
            if (!c)
                throw new errors_1.UsageError(`unknown command '${command}' (dmabuf --help lists them)`);
            return c.run(rest);
        }
    }
}
/**
 * Runs the command line `argv` (without node and the script) and sets the
 * exit code. Errors are one line (`dmabuf: ...`); `-v`/`--verbose`, anywhere
 * on the line, adds the stack trace.
 */
function run(argv) {
    let lead = 0;
    while (lead < argv.length && GLOBAL.has(argv[lead]))
        lead++;
    // `dmabuf info | head`: a reader that stops early ends the command quietly, as it would end cat.
    process.stdout.on('error', (e) => {
        if (e.code === 'EPIPE')
            process.exit(process.exitCode ?? 0);
        throw e;
    });
    dispatch(argv.slice(lead)).then((code) => {
        process.exitCode = code;
    }, (e) => {
        const err = e;
        const message = err instanceof errors_1.UsageError || err instanceof errors_1.CliError ? err.message : `${err.code ? `${err.code}: ` : ''}${err.message?.replace(/^E[A-Z0-9]+: /, '') ?? String(e)}`;
        process.stderr.write(`dmabuf: ${message}\n`);
        if ((lead > 0 || args_1.seen.verbose) && err.stack)
            process.stderr.write(err.stack + '\n');
        process.exitCode = err instanceof errors_1.UsageError ? errors_1.EXIT_USAGE : (err.exitCode ?? errors_1.EXIT_FAIL);
    });
}
