// The `aegis` command line (CONTRACT §4, docs/cli.md): argv in, exit code out. Dispatches to one
// command per file in cli/commands/; every command writes through a CliIO, so tests can run it
// in-process and bin/aegis.mjs binds it to the real process.
import { checkCommand } from "./commands/check.ts";
import { compileCommand } from "./commands/compile.ts";
import { evalCommand } from "./commands/eval.ts";
import { inspectCommand } from "./commands/inspect.ts";
import { keygenCommand } from "./commands/keygen.ts";
import { testCommand } from "./commands/test.ts";
import { auditCommand } from "./commands/audit.ts";
import { reportCommand } from "./commands/report.ts";
import { EXIT_OK, EXIT_USAGE, UsageError, type CliIO, type Command } from "./io.ts";
import { KeyError } from "./keys.ts";

/** Every command, in the order `aegis --help` lists them. */
export const COMMANDS: Command[] = [
  compileCommand, checkCommand, evalCommand, testCommand, inspectCommand, keygenCommand, auditCommand, reportCommand,
];

const TOP_HELP = `usage: aegis COMMAND [ARGS...]

Aegis compiles YAML policies for AI agent tool calls into signed bundles and
evaluates requests against them.

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`).join("\n")}

Run \`aegis COMMAND --help\` for a command's options; docs/cli.md has them all.
`;

/** Run the CLI with `argv` (without node and script) and return the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    if (name === undefined) {
      io.stderr(TOP_HELP);
      return EXIT_USAGE;
    }
    io.stdout(topic ? topic.help : TOP_HELP);
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr(`aegis: unknown command \`${name}\` (run \`aegis --help\`)\n`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError || e instanceof KeyError) {
      io.stderr(`aegis ${command.name}: ${e.message}\n`);
      if (e instanceof UsageError) io.stderr(`run \`aegis ${command.name} --help\` for usage\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

/** A CliIO bound to this process's streams and working directory. */
export function processIO(): CliIO {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return new Uint8Array(Buffer.concat(chunks));
    },
    cwd: process.cwd(),
  };
}
