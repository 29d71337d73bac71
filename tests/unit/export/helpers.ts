/** Shared pieces of the export unit tests: fixture jobs and cron runs, parsed without the CLI. */

import { parseJob } from "../../../lib/job/parse.ts";
import type { CronRun, JobSource } from "../../../lib/export/model.ts";
import { parseCrontab } from "../../../lib/export/crontab.ts";
import { userDbFrom } from "../../../lib/process/users.ts";

export const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

/** A job from text, as the CLI would load it (name from the file name). */
export function jobFrom(text: string, file = "/etc/init/test.conf"): JobSource {
  const name = file.slice(file.lastIndexOf("/") + 1).replace(/\.conf$/, "");
  const r = parseJob(text, { name, file });
  if (!r.job) throw new Error(r.diagnostics.map((d) => `${d.line}: ${d.message}`).join("\n"));
  return { job: r.job, stanzas: r.stanzas ?? [] };
}

/** A fixture job file. */
export function fixtureJob(name: string): JobSource {
  const file = `${FIXTURES}${name}.conf`;
  return jobFrom(Deno.readTextFileSync(file), file);
}

/** The cron runs of the fixture crontab (its BACKUP_CONF line runs fixtures/backup.conf). */
export function fixtureCron(): CronRun[] {
  const text = Deno.readTextFileSync(`${FIXTURES}crontab`).replace(
    "BACKUP_CONF",
    `${FIXTURES}backup.conf`,
  );
  const parsed = parseCrontab(text, "/etc/cron.d/upkeep");
  if (parsed.errors.length) throw new Error(JSON.stringify(parsed.errors));
  return parsed.lines.map((l) => {
    const src = l.options.jobFile ? fixtureJob("backup") : null;
    const name = l.options.name ?? src?.job.name ?? l.options.command[0]!.replace(/.*\//, "");
    return { ...l, name, user: l.user ?? "app", source: src };
  });
}

/** A fixed user database, so mappings that resolve names do not depend on the host. */
export const USERS = userDbFrom(
  [
    { name: "www-data", uid: 33, gid: 33, home: "/var/www" },
    { name: "backup", uid: 34, gid: 34, home: "/var/backups" },
  ],
  [{ name: "www-data", gid: 33, members: [] }],
);

/** Every real job file of the shared corpus and the examples (when the corpus is there). */
export function corpusJobs(): JobSource[] {
  const dirs = [
    new URL("../../../examples/init/", import.meta.url).pathname,
    new URL("../../../../shared/upstart-jobs/", import.meta.url).pathname,
  ];
  const out: JobSource[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".conf"));
    } catch {
      continue;
    }
    for (const n of names.sort()) out.push(jobFrom(Deno.readTextFileSync(dir + n), dir + n));
  }
  return out;
}
