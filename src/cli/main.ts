#!/usr/bin/env node
/** `igw`: the command-line entry point. Each sub-command lives in its own file under cli/. */
import { Command } from "@commander-js/extra-typings";
import { benchCommand } from "./bench.ts";
import { demoCommand } from "./demo.ts";
import { serveCommand } from "./serve.ts";
import { simCommand } from "./sim.ts";
import { startCommand } from "./start.ts";
import { version } from "./version.ts";

const program = new Command("igw")
  .description("LLM inference gateway, vLLM simulator and serving benchmark")
  .version(version)
  .showHelpAfterError()
  .enablePositionalOptions();

program.addCommand(serveCommand());
program.addCommand(simCommand());
program.addCommand(benchCommand());
program.addCommand(startCommand());
program.addCommand(demoCommand());

await program.parseAsync(process.argv);
