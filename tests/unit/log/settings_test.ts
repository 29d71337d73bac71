/** Log settings: a job's stanzas over the daemon's flags over the defaults. */

import { deepEqual, equal } from "node:assert/strict";
import {
  LOG_DEFAULTS,
  logSettingsFromFlags,
  needsLineMode,
  resolveLogSettings,
} from "../../../lib/log/settings.ts";
import { JOB_LOG_DEFAULTS } from "../../../lib/job/model.ts";

Deno.test("a job without log stanzas takes the daemon's settings", () => {
  deepEqual(resolveLogSettings(JOB_LOG_DEFAULTS, LOG_DEFAULTS), LOG_DEFAULTS);
  deepEqual(resolveLogSettings(undefined, LOG_DEFAULTS), LOG_DEFAULTS);
});

Deno.test("a job's stanzas win over the daemon's settings", () => {
  const daemon = { ...LOG_DEFAULTS, timestamps: "tai64n" as const, markers: true, maxAge: 60 };
  const s = resolveLogSettings({
    rotate: { size: 4096, keep: 2 },
    maxAge: "off",
    timestamps: "off",
    markers: false,
    compress: true,
  }, daemon);
  deepEqual(s, {
    maxBytes: 4096,
    keep: 2,
    maxAge: null,
    compress: true,
    timestamps: null,
    markers: false,
  });
  equal(resolveLogSettings({ ...JOB_LOG_DEFAULTS, rotate: "off" }, daemon).maxBytes, 0);
});

Deno.test("line mode is needed for timestamps or markers only", () => {
  equal(needsLineMode(LOG_DEFAULTS), false);
  equal(needsLineMode({ ...LOG_DEFAULTS, markers: true }), true);
  equal(needsLineMode({ ...LOG_DEFAULTS, timestamps: "rfc3339" }), true);
});

Deno.test("logSettingsFromFlags() reads the daemon's flags", () => {
  deepEqual(logSettingsFromFlags({}), LOG_DEFAULTS);
  deepEqual(
    logSettingsFromFlags({
      "log-size": "10M",
      "log-keep": "3",
      "log-max-age": "7",
      "log-timestamps": "tai64n",
      "log-markers": true,
      "log-compress": true,
    }),
    {
      maxBytes: 10 * 1024 * 1024,
      keep: 3,
      maxAge: 7 * 86400,
      compress: true,
      timestamps: "tai64n",
      markers: true,
    },
  );
  equal((logSettingsFromFlags({ "log-size": "0" }) as { maxBytes: number }).maxBytes, 0);
});

Deno.test("logSettingsFromFlags() says what is wrong", () => {
  equal(typeof logSettingsFromFlags({ "log-size": "big" }), "string");
  equal(typeof logSettingsFromFlags({ "log-size": "100" }), "string");
  equal(typeof logSettingsFromFlags({ "log-keep": "-1" }), "string");
  equal(typeof logSettingsFromFlags({ "log-max-age": "soon" }), "string");
  equal(typeof logSettingsFromFlags({ "log-timestamps": "iso" }), "string");
});
