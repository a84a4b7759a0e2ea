// Envoy's data-plane-api .proto files, for the test that checks our hand-written ext_proc subset
// (proto/) field by field against upstream. They come from crates.io's `envoy-types` crate, which
// ships data-plane-api with its imports (xds, protoc-gen-validate, googleapis, ...); cargo fetches
// it into a scratch CARGO_HOME, and only the crate's proto/ folder is kept. Needs cargo.
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./run.mjs";

/** envoy-types release; its proto/data-plane-api tracks Envoy's API of late 2026. */
export const ENVOY_TYPES_VERSION = "0.7.7";

export const component = {
  name: "envoy-api",
  description: `Envoy data-plane-api protos (crates.io envoy-types ${ENVOY_TYPES_VERSION}, via cargo fetch)`,
  suite: true,
  async ensure({ cache, log }) {
    const dest = join(cache, `envoy-api-${ENVOY_TYPES_VERSION}`);
    const marker = join(
      dest,
      "data-plane-api",
      "envoy",
      "service",
      "ext_proc",
      "v3",
      "external_processor.proto",
    );
    if (!existsSync(marker)) {
      const scratch = join(cache, "envoy-api.scratch");
      rmSync(scratch, { recursive: true, force: true });
      mkdirSync(join(scratch, "pkg", "src"), { recursive: true });
      writeFileSync(
        join(scratch, "pkg", "Cargo.toml"),
        `[package]\nname = "igw-envoy-api"\nversion = "0.0.0"\nedition = "2021"\n\n[lib]\npath = "src/lib.rs"\n\n` +
          `[dependencies]\nenvoy-types = "=${ENVOY_TYPES_VERSION}"\n`,
      );
      writeFileSync(join(scratch, "pkg", "src", "lib.rs"), "");
      log(`cargo fetch envoy-types ${ENVOY_TYPES_VERSION}`);
      run("cargo", ["fetch", "--quiet", "--manifest-path", join(scratch, "pkg", "Cargo.toml")], {
        env: { ...process.env, CARGO_HOME: join(scratch, "home") },
      });
      const src = join(scratch, "home", "registry", "src");
      const index = readdirSync(src).find((d) =>
        existsSync(join(src, d, `envoy-types-${ENVOY_TYPES_VERSION}`, "proto")),
      );
      if (!index)
        throw new Error(`cargo fetch left no envoy-types-${ENVOY_TYPES_VERSION}/proto under ${src}`);
      rmSync(`${dest}.tmp`, { recursive: true, force: true });
      cpSync(join(src, index, `envoy-types-${ENVOY_TYPES_VERSION}`, "proto"), `${dest}.tmp`, {
        recursive: true,
      });
      rmSync(dest, { recursive: true, force: true });
      renameSync(`${dest}.tmp`, dest);
      rmSync(scratch, { recursive: true, force: true });
      if (!existsSync(marker))
        throw new Error(`${marker} is missing from envoy-types ${ENVOY_TYPES_VERSION}`);
    }
    return { "envoy-api": dest };
  },
};
