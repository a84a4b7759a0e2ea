import { Command } from "@commander-js/extra-typings";
import { createLogger } from "../observability/logger.ts";
import { parseSimArgs, simHelp } from "../sim/argv.ts";
import { loadSimConfigFile } from "../sim/config-file.ts";
import { OptionError, startSimulator } from "../sim/index.ts";
import { failStartup } from "./cli-errors.ts";

/**
 * `igw sim`: serves simulated vLLM engines; prints one "listening" line per replica on stdout, and
 * its diagnostics on stderr through one logger (--log-format). Option errors are found before
 * anything is logged and are one plain line (exit 2), as for every command-line usage error.
 */
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
      let parsed: ReturnType<typeof parseSimArgs>;
      let options: Parameters<typeof startSimulator>[0];
      try {
        parsed = parseSimArgs(args);
        if (parsed.help) {
          process.stdout.write(`${simHelp()}\n`);
          return;
        }
        const fromFile = parsed.configFile !== undefined ? loadSimConfigFile(parsed.configFile) : {};
        options = { ...fromFile, ...parsed.values };
      } catch (e) {
        if (!(e instanceof OptionError)) throw e;
        process.stderr.write(`igw sim: ${e.message}\n`);
        process.exit(2);
      }
      const logger = createLogger("info", options.logFormat ?? "auto");
      try {
        const sim = await startSimulator(options, {
          onAllDead: () => {
            if (!sim.options.exitWhenDead) return;
            logger.fatal("igw sim: every replica is dead; exiting (--exit-when-dead)");
            process.exit(1);
          },
          warn: (message) => logger.warn(message),
        });
        for (const [i, url] of sim.urls.entries()) {
          const r = sim.replicas[i]!;
          const kv = r.kvEvents
            ? ` kv-events=${r.kvEvents.endpoint}${r.kvEvents.replayEndpoint ? ` kv-replay=${r.kvEvents.replayEndpoint}` : ""}`
            : "";
          process.stdout.write(`igw sim: replica ${i} listening on ${url} model=${r.names[0]}${kv}\n`);
        }
        const o = sim.options;
        logger.info(
          {
            profile: o.profile,
            timeScale: o.timeScale,
            maxModelLen: o.maxModelLen,
            ...(parsed.ignored.length > 0 ? { ignoredVllmOptions: parsed.ignored } : {}),
          },
          `igw sim: profile=${o.profile} time-scale=${o.timeScale} max-model-len=${o.maxModelLen}`,
        );
        logger.info(
          `igw sim: try  curl -N ${sim.urls[0]}/v1/completions -H 'content-type: application/json' ` +
            `-d '{"model":"${sim.replicas[0]!.names[0]}","prompt":"hello world","max_tokens":8,"stream":true}'`,
        );
        const stop = () => {
          sim.close().then(() => process.exit(0));
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      } catch (e) {
        if (e instanceof OptionError) {
          // Found while validating, before anything was logged: still a usage error.
          process.stderr.write(`igw sim: ${e.message}\n`);
          process.exit(2);
        }
        // A port in use exits 2 (a usage error), anything else 1.
        failStartup(logger, e, "igw sim could not start");
      }
    });
}
