/**
 * `upkeep install` / `upkeep uninstall`: make the running upkeep a boot service on this host's init
 * (systemd, OpenRC, sysvinit/BusyBox inittab, or cron), or remove exactly what install added.
 * Options parsing, the root check and the output live here; the work is in lib/install/.
 */

import { isCompiled, selfArgv } from "../install/build_info.ts";
import {
  applyInstall,
  applyUninstall,
  commandCrontab,
  type Crontab,
  fsProbe,
  readManifest,
  type StepResult,
} from "../install/apply.ts";
import { commandLine } from "../install/artifacts.ts";
import { chooseInit, INIT_NAMES, type InitChoice, type InitName } from "../install/detect.ts";
import type { Manifest } from "../install/manifest.ts";
import { type InstallPaths, systemPaths, userPaths, withOverrides } from "../install/paths.ts";
import { type Command, planInstall } from "../install/plan.ts";
import { BUILD_COMPILED } from "../version.ts";

const HELP = `Usage: upkeep install [OPTION]...
       upkeep uninstall [OPTION]...

install: make this upkeep a boot service on the host's init and start it; prints what it did.
uninstall: remove exactly what install added (job files and logs stay).

Options:
  --root DIR       write into the tree at DIR instead of / (image builds, tests); starts nothing
  --init NAME      auto (default), systemd, openrc, sysvinit, inittab or cron
  --prefix DIR     where the binary goes: PREFIX/sbin/upkeep (default /usr/local)
  --user           per-user daemon for a non-root user, started by the user's crontab
  --conf-dir DIR, --state-dir DIR, --log-dir DIR, --socket PATH
                   the daemon's paths (defaults: /etc/init, /run/upkeep, /var/log/upkeep,
                   /run/upkeep/upkeep.sock)
  -h, --help       show this help`;

export interface InstallOptions {
  root: string;
  init: InitName;
  prefix?: string;
  user: boolean;
  confDir?: string;
  stateDir?: string;
  logDir?: string;
  socket?: string;
}

/** Parse install/uninstall options; a string is a usage error. */
export function parseInstallArgs(args: string[]): InstallOptions | "help" | string {
  const o: InstallOptions = { root: "", init: "auto", user: false };
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!;
    let value: string | undefined;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const take = (): string | undefined => value ?? args[++i];
    switch (a) {
      case "-h":
      case "--help":
        return "help";
      case "--user":
        o.user = true;
        break;
      case "--root":
      case "--init":
      case "--prefix":
      case "--conf-dir":
      case "--state-dir":
      case "--log-dir":
      case "--socket": {
        const v = take();
        if (v === undefined || v === "") return `option '${a}' needs a value`;
        if (a !== "--init" && !v.startsWith("/")) return `option '${a}' needs an absolute path`;
        if (a === "--root") o.root = v === "/" ? "" : v.replace(/\/+$/, "");
        else if (a === "--init") {
          if (!(INIT_NAMES as readonly string[]).includes(v)) {
            return `unknown init '${v}' (one of ${INIT_NAMES.join(", ")})`;
          }
          o.init = v as InitName;
        } else if (a === "--prefix") o.prefix = v;
        else if (a === "--conf-dir") o.confDir = v;
        else if (a === "--state-dir") o.stateDir = v;
        else if (a === "--log-dir") o.logDir = v;
        else o.socket = v;
        break;
      }
      default:
        return `unknown option '${a}'`;
    }
  }
  if (o.user && o.init !== "auto" && o.init !== "cron") {
    return "--user installs through the user's crontab: --init must be cron or auto";
  }
  return o;
}

/** The paths of this install. */
export function installPaths(o: InstallOptions): InstallPaths {
  const base = o.user
    ? userPaths(Deno.env.get("HOME") ?? "/", {
      XDG_CONFIG_HOME: Deno.env.get("XDG_CONFIG_HOME"),
      XDG_STATE_HOME: Deno.env.get("XDG_STATE_HOME"),
    }, o.prefix)
    : systemPaths(o.prefix);
  return withOverrides(base, o);
}

function printResults(results: readonly StepResult[]): void {
  for (const r of results) {
    console.log(`  ${r.outcome.padEnd(9)} ${r.what}${r.detail ? ` (${r.detail})` : ""}`);
  }
}

/** Run live commands (never under --root); a failure is a warning. Returns false on a failure. */
async function runCommands(commands: readonly Command[]): Promise<boolean> {
  let ok = true;
  for (const c of commands) {
    const [cmd, ...args] = c.argv;
    try {
      const out = await new Deno.Command(cmd!, {
        args,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      })
        .output();
      const err = new TextDecoder().decode(out.stderr).trim();
      console.log(
        `  ran       ${commandLine(c.argv)} (${c.why})${
          out.success ? "" : `: failed${err ? `: ${err}` : ""}`
        }`,
      );
      ok &&= out.success;
    } catch (e) {
      console.log(`  failed    ${commandLine(c.argv)} (${c.why}): ${(e as Error).message}`);
      ok = false;
    }
  }
  return ok;
}

function describe(m: { kind?: string; init?: string; flavour?: string }): string {
  const kind = m.kind ?? m.init ?? "unknown";
  return kind === "inittab" ? `inittab (${m.flavour ?? "sysvinit"})` : kind;
}

export async function installMain(command: string, args: string[]): Promise<number> {
  const program = `upkeep ${command}`;
  const parsed = parseInstallArgs(args);
  if (parsed === "help") {
    console.log(HELP);
    return 0;
  }
  if (typeof parsed === "string") {
    console.error(`${program}: ${parsed} (try '${program} --help')`);
    return 2;
  }
  const o = parsed;
  if (!o.root && !o.user && Deno.uid() !== 0) {
    console.error(
      `${program}: must be run as root to ${command} the system service (try: sudo upkeep ` +
        `${command}), or add --user to ${command} a per-user daemon started by your crontab`,
    );
    return 1;
  }
  const paths = installPaths(o);
  const crontab: Crontab | undefined = o.user ? commandCrontab() : undefined;
  try {
    return command === "install"
      ? await install(o, paths, crontab, program)
      : await uninstall(o, paths, crontab, program);
  } catch (e) {
    console.error(`${program}: ${(e as Error).message}`);
    return 1;
  }
}

async function install(
  o: InstallOptions,
  paths: InstallPaths,
  crontab: Crontab | undefined,
  program: string,
): Promise<number> {
  const choice: InitChoice = o.user
    ? { kind: "cron", reason: "--user: the user's crontab" }
    : chooseInit(o.init, fsProbe(o.root));
  const old = await readManifest(o.root, paths.manifest);
  if (old && (old.init !== choice.kind || (old.flavour ?? null) !== (choice.flavour ?? null))) {
    console.error(
      `${program}: upkeep is already installed with ${describe(old)}; ` +
        `run 'upkeep uninstall' first to switch to ${describe(choice)}`,
    );
    return 1;
  }
  const execPath = Deno.execPath();
  const binary = isCompiled(BUILD_COMPILED, execPath)
    ? { copyFrom: execPath }
    // compiled-safe: from source only; a compiled binary copies itself.
    : { launcher: selfArgv(false, execPath, Deno.mainModule) };
  const plan = planInstall({ choice, paths, user: o.user, binary });
  if (typeof plan === "string") {
    console.error(`${program}: ${plan}`);
    return 1;
  }
  const where = o.root ? ` into ${o.root}` : "";
  console.log(`upkeep install${where}: init ${describe(choice)} (${choice.reason})`);
  const res = await applyInstall(plan.steps, o.root, {
    version: 1,
    init: choice.kind,
    ...(choice.flavour ? { flavour: choice.flavour } : {}),
    user: o.user,
    paths,
  }, crontab);
  printResults(res.results);
  if (!res.changed) {
    console.log(`upkeep is already installed (${describe(choice)}): nothing changed.`);
    return 0;
  }
  console.log(`  wrote     install manifest ${paths.manifest}`);
  if (o.root) {
    console.log(`Nothing started (--root). At boot, init runs: ${commandLine(plan.bootCommand)}`);
  } else if (!(await runCommands(plan.activate))) {
    console.log(`Warning: upkeep is registered for boot but could not be started now.`);
  }
  if (choice.kind === "cron") {
    console.log("cron starts the daemon at boot and within a minute whenever it is not answering.");
  }
  console.log(`Put job files in ${paths.confDir}: the running daemon picks them up.`);
  if (o.user && Deno.env.get("XDG_RUNTIME_DIR")) {
    // The daemon cron starts lives under ~/.local/state (no XDG_RUNTIME_DIR at boot); initctl in a
    // session with XDG_RUNTIME_DIR would look there first.
    console.log(`For initctl in your shell: export UPKEEP_SOCKET=${paths.socket}`);
  }
  return 0;
}

async function uninstall(
  o: InstallOptions,
  paths: InstallPaths,
  crontab: Crontab | undefined,
  program: string,
): Promise<number> {
  const manifest: Manifest | null = await readManifest(o.root, paths.manifest);
  if (!manifest) {
    console.log(`${program}: nothing to do: no install manifest at ${o.root}${paths.manifest}`);
    return 0;
  }
  const plan = planInstall({
    choice: { kind: manifest.init, flavour: manifest.flavour, reason: "manifest" },
    paths: manifest.paths,
    user: manifest.user,
    binary: { launcher: [] },
  });
  const where = o.root ? ` from ${o.root}` : "";
  console.log(`upkeep uninstall${where}: init ${describe(manifest)}`);
  if (!o.root && typeof plan !== "string") await runCommands(plan.deactivate);
  printResults(await applyUninstall(manifest, o.root, crontab));
  if (!o.root && typeof plan !== "string") await runCommands(plan.afterRemove);
  if (manifest.init === "cron") {
    console.log("A daemon that cron started keeps running until it is stopped (kill -TERM it).");
  }
  console.log(
    `Job files in ${manifest.paths.confDir} and logs in ${manifest.paths.logDir} were left ` +
      "alone (install's dirs are removed only when empty).",
  );
  return 0;
}
