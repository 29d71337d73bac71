/**
 * End-to-end with real daemons from Debian (redis-server, sshd, memcached, nginx) and two
 * scripted ones (a Python double fork with a second of work between its forks, a Perl daemon
 * that rewrites its title and environment), each under `expect fork` or `expect daemon` the way
 * their Upstart jobs say. For each: it answers on its port; `status` shows the pid of the
 * daemon's own pid file; kill -9 of that pid brings it back with a new pid; `stop` leaves no
 * process of it. .ci/run installs the daemons; nothing here is skipped.
 */

import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { daemonTest, type TestDaemon } from "./daemon_helpers.ts";
import { pidAlive, REPO_ROOT, waitFor } from "./helpers.ts";

const FIXTURES = `${REPO_ROOT}/tests/fixtures/daemons`;

/** A TCP port nothing listens on now. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The first bytes a server sends (or answers to `send`), or null when nothing answers. */
async function answer(port: number, send = ""): Promise<string | null> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return null;
  }
  try {
    if (send) await conn.write(new TextEncoder().encode(send));
    const buf = new Uint8Array(256);
    const timer = setTimeout(() => conn.close(), 2000);
    const n = await conn.read(buf).catch(() => null);
    clearTimeout(timer);
    return n ? new TextDecoder().decode(buf.subarray(0, n)) : null;
  } finally {
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

function pidFile(path: string): number | null {
  try {
    const n = Number(Deno.readTextFileSync(path).trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Every live process whose command line mentions `marker`. */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      if (cmd.includes(marker) && pidAlive(Number(e.name))) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

/**
 * The checks every daemon must pass: it answers; status shows the pid of its pid file; kill -9 of
 * that pid brings a new one; stop leaves nothing whose command line holds `marker`.
 */
async function superviseDaemon(
  d: TestDaemon,
  job: string,
  opts: { port: number; pidFile: string; marker: string; send?: string; expect: RegExp },
): Promise<void> {
  const r = await d.initctl("start", job);
  assertEquals(r.code, 0, r.stderr);
  const got = await waitFor(() => answer(opts.port, opts.send), `${job} answers`);
  assertMatch(got, opts.expect);
  const first = await waitFor(() => pidFile(opts.pidFile), `${job} pid file`);
  assertEquals(await d.mainPid(job), first, `status of ${job} shows its pid file's pid`);

  Deno.removeSync(opts.pidFile);
  Deno.kill(first, "SIGKILL");
  const second = await waitFor(async () => {
    const pid = pidFile(opts.pidFile);
    return pid !== null && pid !== first && (await d.mainPid(job)) === pid ? pid : null;
  }, `${job} back with a new pid`);
  await waitFor(() => answer(opts.port, opts.send), `${job} answers again`);
  assertMatch(d.output, new RegExp(`${job} main process \\(${first}\\) killed by KILL signal`));

  const stop = await d.initctl("stop", job);
  assertEquals(stop.stdout.trim(), `${job} stop/waiting`);
  await waitFor(() => processesWith(opts.marker).length === 0, `no ${job} process left`);
  assertEquals(pidAlive(second), false);
}

const redisPort = freePort();
daemonTest("redis-server --daemonize yes under expect fork", (dir) => {
  Deno.writeTextFileSync(
    `${dir}/redis.conf`,
    [
      `port ${redisPort}`,
      "bind 127.0.0.1",
      "daemonize yes",
      `pidfile ${dir}/redis.pid`,
      `dir ${dir}`,
      `logfile ${dir}/redis.log`,
      'save ""',
      "appendonly no",
    ].join("\n") + "\n",
  );
  return { redis: `expect fork\nrespawn\nexec redis-server ${dir}/redis.conf\n` };
}, async (d) => {
  await superviseDaemon(d, "redis", {
    port: redisPort,
    pidFile: `${d.dir}/redis.pid`,
    marker: `:${redisPort}`,
    send: "PING\r\n",
    expect: /^\+PONG/,
  });
});

const sshPort = freePort();
/** Ubuntu's ssh job (../shared/upstart-jobs/openssh-server-ssh.conf) on a test port. */
function sshJob(dir: string): string {
  return `description "OpenSSH server"
expect fork
respawn
respawn limit 10 5
umask 022

pre-start script
    test -x /usr/sbin/sshd || { stop; exit 0; }
    test -e ${dir}/sshd_not_to_be_run && { stop; echo "pre-start ran to its end" >${dir}/last-line; exit 0; }
    test -c /dev/null || { stop; exit 0; }

    mkdir -p -m0755 /var/run/sshd
end script

exec /usr/sbin/sshd -p ${sshPort} -o ListenAddress=127.0.0.1 -o PidFile=${dir}/sshd.pid
`;
}

daemonTest("sshd without -D, as Ubuntu's ssh job runs it (expect fork)", (dir) => ({
  ssh: sshJob(dir),
}), async (d) => {
  await superviseDaemon(d, "ssh", {
    port: sshPort,
    pidFile: `${d.dir}/sshd.pid`,
    marker: `-p ${sshPort}`,
    expect: /^SSH-2\.0-/,
  });
});

daemonTest("Ubuntu's ssh job: a pre-start that calls stop runs to its end", (dir) => {
  Deno.writeTextFileSync(`${dir}/sshd_not_to_be_run`, "");
  return { ssh: sshJob(dir) };
}, async (d) => {
  const r = await d.initctl("start", "ssh");
  // As Upstart 1.13: `start` answers once the goal changed, while the pre-start still runs.
  assertEquals(r.code, 0);
  assertMatch(r.stdout.trim(), /^ssh stop\/pre-start, process \d+$/);
  await d.waitStatus("ssh", /^ssh stop\/waiting$/);
  assertEquals(Deno.readTextFileSync(`${d.dir}/last-line`), "pre-start ran to its end\n");
  assertEquals(processesWith(`-p ${sshPort}`).length, 0);
});

const memcachedPort = freePort();
daemonTest("memcached -d under expect fork", (dir) => {
  // memcached writes its pid file as the memcache user: a dir of its own, sticky as /tmp (the
  // daemon refuses state and job dirs below a directory anyone may write).
  Deno.mkdirSync(`${dir}/pid`);
  Deno.chmodSync(`${dir}/pid`, 0o1777);
  return {
    memcached: `expect fork\nrespawn\n` +
      `exec memcached -d -u memcache -l 127.0.0.1 -p ${memcachedPort} -U 0 -P ${dir}/pid/memcached.pid\n`,
  };
}, async (d) => {
  await superviseDaemon(d, "memcached", {
    port: memcachedPort,
    pidFile: `${d.dir}/pid/memcached.pid`,
    marker: `-p ${memcachedPort}`,
    send: "version\r\n",
    expect: /^VERSION /,
  });
});

const nginxPort = freePort();
daemonTest("nginx with daemon on under expect fork", (dir) => {
  Deno.writeTextFileSync(
    `${dir}/nginx.conf`,
    `daemon on;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
worker_processes 2;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${nginxPort}; location / { return 200 "nginx ok\\n"; } }
}
`,
  );
  return { nginx: `expect fork\nrespawn\nexec nginx -c ${dir}/nginx.conf -p ${dir}\n` };
}, async (d) => {
  await superviseDaemon(d, "nginx", {
    port: nginxPort,
    pidFile: `${d.dir}/nginx.pid`,
    marker: `${d.dir}/nginx.conf`,
    send: "GET / HTTP/1.0\r\n\r\n",
    expect: /^HTTP\/1\.1 200/,
  });
});

const pythonPort = freePort();
daemonTest(
  "a Python daemon with a second of work between its two forks (expect daemon)",
  (dir) => ({
    pydaemon: `expect daemon\nrespawn\n` +
      `exec python3 ${FIXTURES}/double_fork.py ${pythonPort} ${dir}/py.pid 1\n`,
  }),
  async (d) => {
    await superviseDaemon(d, "pydaemon", {
      port: pythonPort,
      pidFile: `${d.dir}/py.pid`,
      marker: `double_fork.py ${pythonPort}`,
      expect: /^ok/,
    });
  },
);

const perlPort = freePort();
daemonTest("a Perl daemon that rewrites its title and environment (expect fork)", (dir) => ({
  retitle: `expect fork\nrespawn\nexec perl ${FIXTURES}/retitle.pl ${perlPort} ${dir}/perl.pid\n`,
}), async (d) => {
  await superviseDaemon(d, "retitle", {
    port: perlPort,
    pidFile: `${d.dir}/perl.pid`,
    marker: `serving ${perlPort}`,
    expect: /^ok/,
  });
});

daemonTest("a job that never forks as expect fork says fails after the documented wait", {
  lazy: "expect fork\nexec sleep 1000\n",
}, async (d) => {
  const r = await d.initctl("start", "lazy");
  assertEquals(r.stderr.trim(), "initctl: Job failed to start");
  assertMatch(d.output, /lazy main process \(\d+\) did not fork \(expect fork\) within 10 s/);
  await d.waitStatus("lazy", /^lazy stop\/waiting$/);
});

daemonTest("expect stop: the job is running once its process stopped itself, and continues", (
  dir,
) => ({
  stopper:
    `expect stop\nexec sh -c 'kill -STOP $$; echo continued >${dir}/cont; exec sleep 1000'\n`,
}), async (d) => {
  const r = await d.initctl("start", "stopper");
  assertMatch(r.stdout, /^stopper start\/running, process \d+/);
  await waitFor(() => {
    try {
      return Deno.readTextFileSync(`${d.dir}/cont`) === "continued\n";
    } catch {
      return false;
    }
  }, "the job continued after SIGCONT");
});
