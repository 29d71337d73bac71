/**
 * The install plan: from the chosen init mechanism and the paths, the list of things that must
 * exist (dirs, files, links, an inittab line, crontab lines) and the commands that start upkeep now
 * on a live system. The executor (apply.ts) makes each step true idempotently and records what it
 * added. Pure: no Deno APIs.
 */

import {
  cronFile,
  daemonArgv,
  inittabLine,
  launcherScript,
  openrcScript,
  systemdUnit,
  SYSVINIT_PROCESS_MAX,
  userCrontabLines,
  watchdogArgv,
} from "./artifacts.ts";
import type { InitChoice } from "./detect.ts";
import { dirname, type InstallPaths, LINK_NAMES } from "./paths.ts";
import { shellJoin } from "./shell_words.ts";

/** File content: text, or the bytes of another file (the running binary). */
export type Content = { readonly text: string } | { readonly copyFrom: string };

/** One thing that must be true after install. `what` names it in the output. */
export type Step =
  | { readonly kind: "dir"; readonly path: string; readonly what: string }
  | {
    readonly kind: "file";
    readonly path: string;
    readonly content: Content;
    readonly mode: number;
    readonly what: string;
  }
  | {
    readonly kind: "symlink";
    readonly path: string;
    readonly target: string;
    readonly what: string;
  }
  | { readonly kind: "line"; readonly path: string; readonly line: string; readonly what: string }
  | { readonly kind: "crontab"; readonly lines: readonly string[]; readonly what: string };

/** A command run on a live system (never with `--root`). */
export interface Command {
  readonly argv: readonly string[];
  readonly why: string;
}

export interface Plan {
  readonly steps: readonly Step[];
  /** Run after a live install: start (or reload) upkeep now. */
  readonly activate: readonly Command[];
  /** Run before a live uninstall removes anything: stop upkeep. */
  readonly deactivate: readonly Command[];
  /** Run after a live uninstall: tell init the entry is gone. */
  readonly afterRemove: readonly Command[];
  /** The command the boot runs, as registered. */
  readonly bootCommand: readonly string[];
}

export interface PlanInput {
  readonly choice: InitChoice;
  readonly paths: InstallPaths;
  readonly user: boolean;
  /** The binary: a launcher for this source and deno, or a copy of the running binary. */
  readonly binary: { readonly launcher: readonly string[] } | { readonly copyFrom: string };
}

/** Build the plan; a string is a reason install cannot proceed. */
export function planInstall(input: PlanInput): Plan | string {
  const { choice, paths: p } = input;
  const bindir = dirname(p.binary);
  const steps: Step[] = [
    { kind: "dir", path: bindir, what: "binary dir" },
    {
      kind: "file",
      path: p.binary,
      content: "launcher" in input.binary
        ? { text: launcherScript(input.binary.launcher) }
        : { copyFrom: input.binary.copyFrom },
      mode: 0o755,
      what: "launcher" in input.binary ? "upkeep launcher (runs this source)" : "upkeep binary",
    },
    ...LINK_NAMES.map((name): Step => ({
      kind: "symlink",
      path: `${bindir}/${name}`,
      target: p.binary.slice(bindir.length + 1),
      what: `${name} command`,
    })),
    { kind: "dir", path: p.confDir, what: "job conf dir" },
    { kind: "dir", path: p.stateDir, what: "state dir" },
    { kind: "dir", path: p.logDir, what: "log dir" },
    { kind: "dir", path: dirname(p.manifest), what: "install manifest dir" },
  ];
  const daemon = daemonArgv(p);
  const watchdog = watchdogArgv(p);
  const liveWatchdog: Command = { argv: watchdog, why: "start the daemon now" };
  switch (choice.kind) {
    case "systemd": {
      const unit = "/etc/systemd/system/upkeep.service";
      const wants = "/etc/systemd/system/multi-user.target.wants";
      steps.push(
        { kind: "file", path: unit, content: { text: systemdUnit(p) }, mode: 0o644, what: "unit" },
        { kind: "dir", path: wants, what: "multi-user.target.wants" },
        { kind: "symlink", path: `${wants}/upkeep.service`, target: unit, what: "enable at boot" },
      );
      return {
        steps,
        activate: [
          { argv: ["systemctl", "daemon-reload"], why: "load the unit" },
          { argv: ["systemctl", "start", "upkeep.service"], why: "start the daemon now" },
        ],
        deactivate: [{ argv: ["systemctl", "stop", "upkeep.service"], why: "stop the daemon" }],
        afterRemove: [{ argv: ["systemctl", "daemon-reload"], why: "forget the unit" }],
        bootCommand: daemon,
      };
    }
    case "openrc": {
      const script = "/etc/init.d/upkeep";
      steps.push(
        {
          kind: "file",
          path: script,
          content: { text: openrcScript(p) },
          mode: 0o755,
          what: "OpenRC service (supervise-daemon)",
        },
        { kind: "dir", path: "/etc/runlevels/default", what: "default runlevel" },
        {
          kind: "symlink",
          path: "/etc/runlevels/default/upkeep",
          target: script,
          what: "enable at boot (rc-update add upkeep default)",
        },
      );
      return {
        steps,
        activate: [{ argv: [script, "start"], why: "start the daemon now" }],
        deactivate: [{ argv: [script, "stop"], why: "stop the daemon" }],
        afterRemove: [],
        bootCommand: daemon,
      };
    }
    case "inittab": {
      const flavour = choice.flavour ?? "sysvinit";
      const line = inittabLine(p, flavour);
      const process = shellJoin(daemon);
      if (flavour === "sysvinit" && process.length > SYSVINIT_PROCESS_MAX) {
        return `the inittab command is ${process.length} characters, more than sysvinit's ` +
          `${SYSVINIT_PROCESS_MAX}; use a shorter --prefix or paths: ${process}`;
      }
      steps.push({ kind: "line", path: "/etc/inittab", line, what: `inittab respawn entry` });
      const reread: Command = flavour === "sysvinit"
        ? { argv: ["telinit", "q"], why: "make init re-read /etc/inittab" }
        : { argv: ["kill", "-HUP", "1"], why: "make BusyBox init re-read /etc/inittab" };
      return {
        steps,
        activate: [reread],
        deactivate: [],
        afterRemove: [reread],
        bootCommand: daemon,
      };
    }
    case "cron": {
      if (input.user) {
        steps.push({
          kind: "crontab",
          lines: userCrontabLines(p),
          what: "crontab @reboot + watchdog",
        });
      } else {
        steps.push(
          { kind: "dir", path: "/etc/cron.d", what: "cron.d" },
          {
            kind: "file",
            path: "/etc/cron.d/upkeep",
            content: { text: cronFile(p) },
            mode: 0o644,
            what: "cron @reboot + every-minute watchdog",
          },
        );
      }
      return {
        steps,
        activate: [liveWatchdog],
        deactivate: [],
        afterRemove: [],
        bootCommand: watchdog,
      };
    }
  }
}
