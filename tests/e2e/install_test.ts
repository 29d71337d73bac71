/**
 * `upkeep install` end to end: for each init flavour, install into a temp root, read back the
 * artifact, run the command the boot would run (paths mapped into the root), check the example
 * jobs come up; SIGKILL upkeep, run what brings it back (cron's watchdog line, or the init's
 * respawn of the same command), and check it answers again with each job running exactly once.
 * Also: idempotence, exact uninstall, the non-root refusal, and --user through a fake crontab.
 */

import assert from "node:assert/strict";
import { pidAlive, runUpkeep, tempDir, waitFor } from "./helpers.ts";
import { runUpkeepAsNobody } from "./as_nobody.ts";
import {
  bootCommands,
  cleanupRoot,
  copyExampleJobs,
  daemonPids,
  type Flavour,
  jobLeaders,
  prepareRoot,
  runBoot,
  statusJson,
  tempRoot,
  waitJobsRunning,
} from "./boot_sim.ts";
import { cronCommands } from "../../lib/install/boot_command.ts";

/** The example jobs that run forever once the boot events have passed. */
const LONG_RUNNING = ["delayed-job", "web"];

const EXPECTED_INIT: Record<Flavour, RegExp> = {
  systemd: /init systemd \(\/run\/systemd\/system exists\)/,
  openrc: /init openrc \(\/sbin\/openrc-run exists\)/,
  sysvinit: /init inittab \(sysvinit\)/,
  busybox: /init inittab \(busybox\)/,
  cron: /init cron \(no systemd, OpenRC or \/etc\/inittab found\)/,
};

function assertOnceEach(socket: string, names: readonly string[]): void {
  const leaders = jobLeaders(socket);
  for (const n of names) {
    assert.equal(leaders.get(n)?.length, 1, `${n}: ${JSON.stringify([...leaders])}`);
  }
}

for (const flavour of ["systemd", "openrc", "sysvinit", "busybox", "cron"] as const) {
  Deno.test({
    name: `simulated reboot (${flavour}): the boot command brings up the example jobs, ` +
      `and after kill -9 upkeep comes back with each job running once`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const root = await tempRoot();
      const r = root.path;
      const socket = `${r}/run/upkeep/upkeep.sock`;
      let booted: Deno.ChildProcess | null = null;
      let again: Deno.ChildProcess | null = null;
      try {
        await prepareRoot(r, flavour);
        const inst = await runUpkeep(["install", "--root", r]);
        assert.equal(inst.code, 0, inst.stderr);
        assert.match(inst.stdout, EXPECTED_INIT[flavour]);
        await copyExampleJobs(r);
        const cmds = await bootCommands(r, flavour);
        assert.equal(cmds.boot[0], `${r}/usr/local/sbin/upkeep`);
        assert.equal(cmds.boot[1], flavour === "cron" ? "watchdog" : "daemon");

        // Boot.
        booted = await runBoot(cmds.boot, cmds.foreground);
        const before = await waitJobsRunning(socket, LONG_RUNNING);
        assertOnceEach(socket, LONG_RUNNING);
        const daemons = daemonPids(r);
        assert.equal(daemons.length, 1, `one daemon: ${daemons}`);

        // upkeep dies.
        Deno.kill(daemons[0]!, "SIGKILL");
        await waitFor(() => !pidAlive(daemons[0]!), "daemon gone");
        if (booted) await booted.status;
        assert.equal(await statusJson(socket), null, "no answer once upkeep is dead");

        // The watchdog line (cron) or the init's respawn brings it back.
        again = await runBoot(cmds.again, cmds.foreground);
        const after = await waitJobsRunning(socket, LONG_RUNNING);
        assert.equal(daemonPids(r).length, 1, "still one daemon");
        assertOnceEach(socket, LONG_RUNNING);
        for (const [name, pid] of before) {
          assert.ok(
            pidAlive(after.get(name)!),
            `${name} runs (was ${pid}, now ${after.get(name)})`,
          );
        }

        // A second watchdog run while upkeep answers does nothing.
        if (flavour === "cron") {
          const quiet = await new Deno.Command(cmds.again[0]!, { args: cmds.again.slice(1) })
            .output();
          assert.equal(quiet.code, 0);
          assert.equal(new TextDecoder().decode(quiet.stdout), "");
          assert.equal(daemonPids(r).length, 1);
          assertOnceEach(socket, LONG_RUNNING);
        }
      } finally {
        await cleanupRoot(r, socket);
        await booted?.status;
        await again?.status;
        await root.cleanup();
      }
    },
  });
}

/** Every path under root: dirs end in /, links show their target. */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(`${root}${rel}`)) {
      const p = `${rel}/${e.name}`;
      if (e.isSymlink) out.push(`${p} -> ${await Deno.readLink(`${root}${p}`)}`);
      else if (e.isDirectory) {
        out.push(`${p}/`);
        await walk(p);
      } else out.push(p);
    }
  };
  await walk("");
  return out.sort();
}

Deno.test("install twice changes nothing; uninstall removes exactly it and keeps jobs and logs", async () => {
  const root = await tempRoot();
  const r = root.path;
  try {
    await prepareRoot(r, "sysvinit");
    await Deno.mkdir(`${r}/usr/local/sbin`, { recursive: true });
    await Deno.writeTextFile(`${r}/usr/local/sbin/start`, "#!/bin/sh\n# another init's start\n");
    const pristine = await tree(r);
    const inittab = await Deno.readTextFile(`${r}/etc/inittab`);

    const first = await runUpkeep(["install", "--root", r, "--init", "auto"]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /skipped +start command \/usr\/local\/sbin\/start -> upkeep/);
    assert.match(first.stdout, /added +inittab respawn entry in \/etc\/inittab/);
    const installed = await tree(r);
    const second = await runUpkeep(["install", "--root", r]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /already installed \(inittab \(sysvinit\)\): nothing changed/);
    assert.doesNotMatch(second.stdout, /\badded\b|\bupdated\b/);
    assert.deepEqual(await tree(r), installed);

    const manifest = JSON.parse(
      await Deno.readTextFile(`${r}/var/lib/upkeep/install-manifest.json`),
    );
    assert.equal(manifest.init, "inittab");
    assert.ok(manifest.entries.some((e: { kind: string }) => e.kind === "line"));

    await Deno.writeTextFile(`${r}/etc/init/app.conf`, "exec sleep 1000\n");
    await Deno.writeTextFile(`${r}/var/log/upkeep/app.log`, "a line\n");
    const un = await runUpkeep(["uninstall", "--root", r]);
    assert.equal(un.code, 0, un.stderr);
    assert.equal(await Deno.readTextFile(`${r}/etc/inittab`), inittab);
    assert.deepEqual(
      await tree(r),
      [
        ...pristine,
        "/etc/init/",
        "/etc/init/app.conf",
        "/var/",
        "/var/log/",
        "/var/log/upkeep/",
        "/var/log/upkeep/app.log",
      ]
        .sort(),
    );
    const again = await runUpkeep(["uninstall", "--root", r]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /nothing to do/);
  } finally {
    await root.cleanup();
  }
});

Deno.test("install refuses another init until uninstall, and rejects unknown --init", async () => {
  const root = await tempRoot();
  try {
    assert.equal((await runUpkeep(["install", "--root", root.path, "--init", "cron"])).code, 0);
    const sw = await runUpkeep(["install", "--root", root.path, "--init", "systemd"]);
    assert.equal(sw.code, 1);
    assert.match(sw.stderr, /already installed with cron; run 'upkeep uninstall' first/);
    const bad = await runUpkeep(["install", "--root", root.path, "--init", "launchd"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown init 'launchd'/);
  } finally {
    await root.cleanup();
  }
});

Deno.test({
  name: "install without --root refuses a non-root user clearly",
  ignore: Deno.uid() !== 0,
  async fn() {
    const home = await tempDir();
    try {
      await Deno.chmod(home.path, 0o777);
      // upkeep bundled where nobody can read it (the clone may be in a 0700 directory).
      const r = await runUpkeepAsNobody(["install"], {
        HOME: home.path,
        XDG_CACHE_HOME: home.path,
      });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /must be run as root .*or add --user/);
    } finally {
      await home.cleanup();
    }
  },
});

Deno.test({
  name: "install --user adds @reboot and watchdog lines to the user's crontab, and starts upkeep",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const t = await tempRoot();
    const home = `${t.path}/home`;
    const bin = `${t.path}/bin`;
    const tab = `${t.path}/crontab.txt`;
    await Deno.mkdir(home, { recursive: true });
    await Deno.mkdir(bin, { recursive: true });
    // A fake crontab(1): -l prints the table (exit 1 when none), - replaces it from stdin.
    await Deno.writeTextFile(
      `${bin}/crontab`,
      `#!/bin/sh\ncase "$1" in\n-l) [ -f '${tab}' ] || { echo "no crontab for $USER" >&2; exit 1; }; cat '${tab}' ;;\n-) cat > '${tab}' ;;\nesac\n`,
    );
    await Deno.chmod(`${bin}/crontab`, 0o755);
    await Deno.writeTextFile(tab, "MAILTO=me\n0 3 * * * /usr/bin/backup\n");
    const env = {
      HOME: home,
      PATH: `${bin}:${Deno.env.get("PATH")}`,
      XDG_CONFIG_HOME: "",
      XDG_STATE_HOME: "",
    };
    const socket = `${home}/.local/state/upkeep/run/upkeep.sock`;
    try {
      const inst = await runUpkeep(["install", "--user"], { env });
      assert.equal(inst.code, 0, inst.stderr + inst.stdout);
      assert.match(inst.stdout, /init cron \(--user: the user's crontab\)/);
      assert.match(inst.stdout, /ran +.*upkeep watchdog .*\(start the daemon now\)/);
      const text = await Deno.readTextFile(tab);
      assert.match(text, /^MAILTO=me\n0 3 \* \* \* \/usr\/bin\/backup\n/);
      const cmds = cronCommands(text, false);
      assert.deepEqual(cmds.reboot?.slice(0, 2), [`${home}/.local/bin/upkeep`, "watchdog"]);
      assert.deepEqual(cmds.watchdog, cmds.reboot);
      // install started the daemon: it answers on the user's socket.
      assert.ok(await statusJson(socket), "daemon answers after install --user");
      assert.equal(daemonPids(home).length, 1);

      const un = await runUpkeep(["uninstall", "--user"], { env });
      assert.equal(un.code, 0, un.stderr);
      assert.equal(await Deno.readTextFile(tab), "MAILTO=me\n0 3 * * * /usr/bin/backup\n");
    } finally {
      await cleanupRoot(home, socket);
      await t.cleanup();
    }
  },
});
