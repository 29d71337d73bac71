/**
 * The files `upkeep install` writes, as pure functions of the install paths: the launcher (when run
 * from source), the systemd unit, the OpenRC service script, the inittab line, the cron.d file and
 * the per-user crontab lines. Every artifact names all daemon paths explicitly, so the command a
 * boot runs does not depend on the daemon's defaults. Pure: no Deno APIs.
 */

import type { InstallPaths } from "./paths.ts";
import { shellJoin, shellQuote } from "./shell_words.ts";

/** The foreground daemon command the init system supervises. */
export function daemonArgv(p: InstallPaths): string[] {
  return [p.binary, "daemon", ...daemonOptions(p)];
}

/** The command cron runs at boot and every minute: start the daemon unless its socket answers. */
export function watchdogArgv(p: InstallPaths): string[] {
  return [p.binary, "watchdog", ...daemonOptions(p)];
}

/**
 * The daemon's paths as options. `--socket` is left out when it is the daemon's own choice for
 * the state dir (`STATE_DIR/upkeep.sock`), which keeps an inittab line within sysvinit's limit.
 */
function daemonOptions(p: InstallPaths): string[] {
  const opts = ["--conf-dir", p.confDir, "--state-dir", p.stateDir, "--log-dir", p.logDir];
  return p.socket === `${p.stateDir}/upkeep.sock` ? opts : [...opts, "--socket", p.socket];
}

/**
 * The launcher installed in place of the binary when upkeep runs from source: it runs that source
 * with that deno, and passes its own name on so the `start`/`stop`/`status` links work.
 */
export function launcherScript(self: readonly string[]): string {
  return [
    "#!/bin/sh",
    "# upkeep launcher, written by `upkeep install` run from source: runs that source with that",
    "# deno. UPKEEP_ARGV0 carries the name this was called by (initctl, start, stop, ...);",
    "# DENO_NO_UPDATE_CHECK keeps deno from looking for a newer deno (over the network) each time.",
    'UPKEEP_ARGV0="${0##*/}"',
    "DENO_NO_UPDATE_CHECK=1",
    "export UPKEEP_ARGV0 DENO_NO_UPDATE_CHECK",
    `exec ${shellJoin(self)} "$@"`,
    "",
  ].join("\n");
}

/** systemd quotes like sh for our words, but `%` is a specifier: double it. */
function systemdJoin(argv: readonly string[]): string {
  return shellJoin(argv).replaceAll("%", "%%");
}

/**
 * The systemd unit. `KillMode=process`: on `systemctl stop` systemd signals only upkeep, which
 * stops its jobs itself in Upstart's order (pre-stop, `kill signal`, `kill timeout`, post-stop);
 * and when upkeep crashes, systemd restarts it without killing the jobs, which the new daemon
 * takes over. With the default `control-group`, systemd would SIGTERM every job at once on stop,
 * and kill them all whenever upkeep itself died.
 */
export function systemdUnit(p: InstallPaths): string {
  return `# Written by \`upkeep install\`; removed by \`upkeep uninstall\`.
[Unit]
Description=upkeep: Upstart-compatible process supervisor
After=local-fs.target network.target
Wants=network.target
StartLimitIntervalSec=0

[Service]
Type=simple
ExecStart=${systemdJoin(daemonArgv(p))}
ExecReload=/bin/kill -HUP $MAINPID
Restart=always
RestartSec=1
KillMode=process
TimeoutStopSec=120

[Install]
WantedBy=multi-user.target
`;
}

/** A value for a double-quoted sh assignment. */
function dq(s: string): string {
  return `"${s.replace(/["\\$`]/g, (c) => `\\${c}`)}"`;
}

/** The OpenRC service script, supervised by `supervise-daemon` (which respawns upkeep). */
export function openrcScript(p: InstallPaths): string {
  const [command, ...args] = daemonArgv(p);
  return `#!/sbin/openrc-run
# Written by \`upkeep install\`; removed by \`upkeep uninstall\`.
name="upkeep"
description="upkeep: Upstart-compatible process supervisor"
supervisor="supervise-daemon"
command=${dq(command!)}
command_args=${dq(shellJoin(args))}
respawn_delay=1
respawn_max=0
retry="TERM/120/KILL/5"
extra_started_commands="reload"

depend() {
	need localmount
	after bootmisc net
	use logger
}

reload() {
	ebegin "Reloading \${RC_SVCNAME} job configuration"
	supervise-daemon "\${RC_SVCNAME}" --signal HUP
	eend $?
}
`;
}

/** sysvinit keeps an inittab process field in 128 bytes (127 characters and a NUL). */
export const SYSVINIT_PROCESS_MAX = 127;

/** inittab formats: sysvinit `id:runlevels:action:process`; BusyBox `tty::action:process`. */
export type InittabFlavour = "sysvinit" | "busybox";

/**
 * The inittab line. sysvinit: id `upk`, runlevels 2345. BusyBox: the id field is a tty (empty
 * means the console) and runlevels are ignored, so both are left empty.
 */
export function inittabLine(p: InstallPaths, flavour: InittabFlavour): string {
  const process = shellJoin(daemonArgv(p));
  return flavour === "sysvinit" ? `upk:2345:respawn:${process}` : `::respawn:${process}`;
}

/** cron treats `%` as a newline: escape it. */
function cronJoin(argv: readonly string[]): string {
  return shellJoin(argv).replaceAll("%", "\\%");
}

/** The `/etc/cron.d/upkeep` file (cron.d lines carry a user field). */
export function cronFile(p: InstallPaths): string {
  const cmd = cronJoin(watchdogArgv(p));
  return `# Written by \`upkeep install\`; removed by \`upkeep uninstall\`.
# Start the upkeep daemon at boot, and again within a minute whenever its socket does not answer.
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
@reboot root ${cmd}
* * * * * root ${cmd}
`;
}

/** The marker that opens upkeep's lines in a user's crontab. */
export const CRONTAB_MARKER = "# upkeep: per-user daemon (added by `upkeep install --user`)";

/** The lines `upkeep install --user` adds to the user's crontab. */
export function userCrontabLines(p: InstallPaths): string[] {
  const cmd = cronJoin(watchdogArgv(p));
  return [CRONTAB_MARKER, `@reboot ${cmd}`, `* * * * * ${cmd}`];
}

/** A one-line shell rendering of an argv, for messages. */
export function commandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
