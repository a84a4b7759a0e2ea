import { Command } from "@commander-js/extra-typings";
import { parseSimArgs, simHelp } from "../sim/argv.ts";
import { loadSimConfigFile } from "../sim/config-file.ts";
import { OptionError, startSimulator } from "../sim/index.ts";

/** `igw sim`: serves simulated vLLM engines; prints one "listening" line per replica on stdout. */
export function simCommand(): Command<[string[]]> {
  return new Command("sim")
    .description(
      "serve simulated vLLM engines (vLLM's API, SSE framing and metrics); igw sim --help for options",
    )
    .argument("[args...]", "vLLM-style options, and optionally the model as first positional argument")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (args: string[]) => {
      try {
        const parsed = parseSimArgs(args);
        if (parsed.help) {
          process.stdout.write(`${simHelp()}\n`);
          return;
        }
        const fromFile = parsed.configFile !== undefined ? loadSimConfigFile(parsed.configFile) : {};
        const sim = await startSimulator(
          { ...fromFile, ...parsed.values },
          {
            onAllDead: () => {
              if (!sim.options.exitWhenDead) return;
              process.stderr.write("igw sim: every replica is dead; exiting (--exit-when-dead)\n");
              process.exit(1);
            },
          },
        );
        for (const [i, url] of sim.urls.entries()) {
          const r = sim.replicas[i]!;
          const kv = r.kvEvents
            ? ` kv-events=${r.kvEvents.endpoint}${r.kvEvents.replayEndpoint ? ` kv-replay=${r.kvEvents.replayEndpoint}` : ""}`
            : "";
          process.stdout.write(`igw sim: replica ${i} listening on ${url} model=${r.names[0]}${kv}\n`);
        }
        const o = sim.options;
        process.stderr.write(
          `igw sim: profile=${o.profile} time-scale=${o.timeScale} max-model-len=${o.maxModelLen}` +
            (parsed.ignored.length > 0 ? ` (ignored vLLM options: ${parsed.ignored.join(" ")})` : "") +
            `\nigw sim: try  curl -N ${sim.urls[0]}/v1/completions -H 'content-type: application/json' ` +
            `-d '{"model":"${sim.replicas[0]!.names[0]}","prompt":"hello world","max_tokens":8,"stream":true}'\n`,
        );
        const stop = () => {
          sim.close().then(() => process.exit(0));
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      } catch (e) {
        if (e instanceof OptionError) {
          process.stderr.write(`igw sim: ${e.message}\n`);
          process.exit(2);
        }
        const err = e as NodeJS.ErrnoException;
        if (err.code === "EADDRINUSE") {
          process.stderr.write(
            `igw sim: ${err.message} (another server uses that port; pick --port or use --port 0)\n`,
          );
          process.exit(1);
        }
        throw e;
      }
    });
}
