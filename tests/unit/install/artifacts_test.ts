import assert from "node:assert/strict";
import {
  cronFile,
  daemonArgv,
  inittabLine,
  launcherScript,
  openrcScript,
  systemdUnit,
  userCrontabLines,
  watchdogArgv,
} from "../../../lib/install/artifacts.ts";
import {
  cronCommands,
  inittabCommand,
  mapIntoRoot,
  openrcCommand,
  parseInittabLine,
  systemdExecStart,
} from "../../../lib/install/boot_command.ts";
import { systemPaths, userPaths, withOverrides } from "../../../lib/install/paths.ts";

const P = systemPaths();
/** Paths with characters that need quoting in every format. */
const AWKWARD = withOverrides(systemPaths("/opt/my apps"), { confDir: "/etc/init 100%" });

Deno.test("daemonArgv() names every daemon path, the socket only when not STATE_DIR/upkeep.sock", () => {
  assert.deepEqual(daemonArgv(P), [
    "/usr/local/sbin/upkeep",
    "daemon",
    "--conf-dir",
    "/etc/init",
    "--state-dir",
    "/run/upkeep",
    "--log-dir",
    "/var/log/upkeep",
  ]);
  const own = withOverrides(P, { socket: "/run/other.sock" });
  assert.deepEqual(daemonArgv(own).slice(-2), ["--socket", "/run/other.sock"]);
  assert.deepEqual(watchdogArgv(P).slice(0, 2), ["/usr/local/sbin/upkeep", "watchdog"]);
});

Deno.test("systemdUnit() restarts always, signals only upkeep on stop, and reads back", () => {
  const unit = systemdUnit(P);
  assert.match(unit, /^Restart=always$/m);
  assert.match(unit, /^KillMode=process$/m);
  assert.match(unit, /^WantedBy=multi-user.target$/m);
  assert.deepEqual(systemdExecStart(unit), daemonArgv(P));
  assert.deepEqual(systemdExecStart(systemdUnit(AWKWARD)), daemonArgv(AWKWARD));
  assert.match(systemdUnit(AWKWARD), /100%%/);
});

Deno.test("openrcScript() uses supervise-daemon and reads back as command + command_args", () => {
  const script = openrcScript(P);
  assert.match(script, /^#!\/sbin\/openrc-run$/m);
  assert.match(script, /^supervisor="supervise-daemon"$/m);
  assert.deepEqual(openrcCommand(script), daemonArgv(P));
  assert.deepEqual(openrcCommand(openrcScript(AWKWARD)), daemonArgv(AWKWARD));
});

Deno.test("inittabLine() writes a respawn entry in sysvinit and BusyBox form", () => {
  const sysv = parseInittabLine(inittabLine(P, "sysvinit"));
  assert.deepEqual(sysv && [sysv.id, sysv.runlevels, sysv.action], ["upk", "2345", "respawn"]);
  const bb = parseInittabLine(inittabLine(P, "busybox"));
  assert.deepEqual(bb && [bb.id, bb.runlevels, bb.action], ["", "", "respawn"]);
  const inittab = `# comment\nid:2:initdefault:\nsi::sysinit:/etc/init.d/rcS\n${
    inittabLine(AWKWARD, "sysvinit")
  }\n`;
  assert.deepEqual(inittabCommand(inittab), daemonArgv(AWKWARD));
  assert.equal(inittabCommand("si::sysinit:/etc/init.d/rcS\n"), null);
});

Deno.test("cronFile() runs the watchdog at boot and every minute, as root", () => {
  const text = cronFile(P);
  assert.match(text, /^@reboot root \/usr\/local\/sbin\/upkeep watchdog /m);
  assert.match(text, /^\* \* \* \* \* root \/usr\/local\/sbin\/upkeep watchdog /m);
  assert.deepEqual(cronCommands(text, true), {
    reboot: watchdogArgv(P),
    watchdog: watchdogArgv(P),
  });
  const awkward = cronCommands(cronFile(AWKWARD), true);
  assert.deepEqual(awkward.reboot, watchdogArgv(AWKWARD));
  assert.match(cronFile(AWKWARD), /100\\%/);
});

Deno.test("userCrontabLines() have no user field and read back", () => {
  const u = userPaths("/home/ann");
  const lines = userCrontabLines(u);
  assert.equal(lines.length, 3);
  const cmds = cronCommands(`MAILTO=ann\n0 3 * * * /usr/bin/backup\n${lines.join("\n")}\n`, false);
  assert.deepEqual(cmds, { reboot: watchdogArgv(u), watchdog: watchdogArgv(u) });
});

Deno.test("launcherScript() execs the given argv with the caller's arguments and name, no update check", () => {
  const text = launcherScript(["/usr/bin/deno", "run", "-A", "/src/my app/main.ts"]);
  assert.match(text, /^#!\/bin\/sh\n/);
  assert.match(text, /^UPKEEP_ARGV0="\$\{0##\*\/\}"$/m);
  assert.match(text, /^DENO_NO_UPDATE_CHECK=1$/m);
  assert.match(text, /^export UPKEEP_ARGV0 DENO_NO_UPDATE_CHECK$/m);
  assert.match(text, /^exec \/usr\/bin\/deno run -A '\/src\/my app\/main.ts' "\$@"$/m);
});

Deno.test("mapIntoRoot() prefixes absolute words only", () => {
  assert.deepEqual(mapIntoRoot(["/bin/x", "daemon", "--socket", "/run/s"], "/tmp/r/"), [
    "/tmp/r/bin/x",
    "daemon",
    "--socket",
    "/tmp/r/run/s",
  ]);
});
