#!/usr/bin/env node
/** `igw`: the command-line entry point. Each sub-command lives in its own file under cli/. */
import { Command } from "@commander-js/extra-typings";
import { z } from "zod";
import { readableErrorMap } from "../config/zod-issues.ts";
import { benchCommand } from "./bench.ts";
import { exitTwoOnUsageErrors, USAGE_EXIT_CODE, usageMessage } from "./cli-errors.ts";
import { demoCommand } from "./demo.ts";
import { eppCommand } from "./epp.ts";
import { serveCommand } from "./serve.ts";
import { simCommand } from "./sim.ts";
import { startCommand } from "./start.ts";
import { version } from "./version.ts";

// Every zod message a user can read, whichever layer parsed (scheduling, flow control, simulator
// config), is worded by config/zod-issues.ts; a schema's own message still wins.
z.config({ customError: readableErrorMap });

const program = new Command("igw")
  .description("LLM inference gateway, vLLM simulator and serving benchmark")
  .version(version)
  .showHelpAfterError()
  .enablePositionalOptions();

program.addCommand(serveCommand());
program.addCommand(eppCommand());
program.addCommand(simCommand());
program.addCommand(benchCommand());
program.addCommand(startCommand());
program.addCommand(demoCommand());
exitTwoOnUsageErrors(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const message = usageMessage(e);
  if (message === undefined) throw e;
  const sub = program.commands.find((c) => process.argv.slice(2).includes(c.name()))?.name();
  process.stderr.write(`igw${sub ? ` ${sub}` : ""}: ${message}\n`);
  process.exit(USAGE_EXIT_CODE);
}
