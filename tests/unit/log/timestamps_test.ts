/** Line timestamps (RFC 3339, TAI64N), reading them back, and --since arguments. */

import { equal } from "node:assert/strict";
import { linePrefix, lineTime, parseSince, rfc3339, tai64n } from "../../../lib/log/timestamps.ts";

const T = Date.UTC(2024, 4, 1, 12, 34, 56, 789);

Deno.test("rfc3339() is UTC with milliseconds", () => {
  equal(rfc3339(T), "2024-05-01T12:34:56.789Z");
  equal(rfc3339(0), "1970-01-01T00:00:00.000Z");
});

Deno.test("tai64n() is 2^62 + 10 + Unix seconds, then nanoseconds, as svlogd writes it", () => {
  equal(tai64n(0), "@400000000000000a00000000");
  equal(tai64n(1500), "@400000000000000b1dcd6500");
  equal(tai64n(T).length, 25);
  equal(
    tai64n(T).slice(0, 17),
    `@${(0x4000000000000000n + 10n + BigInt(T / 1000 | 0)).toString(16)}`,
  );
});

Deno.test("linePrefix() is the time and a space", () => {
  equal(new TextDecoder().decode(linePrefix("rfc3339", T)), "2024-05-01T12:34:56.789Z ");
  equal(linePrefix("tai64n", T).length, 26);
});

Deno.test("lineTime() reads both formats back, null for other lines", () => {
  equal(lineTime("2024-05-01T12:34:56.789Z hello"), T);
  equal(lineTime(`${tai64n(T)} hello`), T);
  equal(lineTime("2024-05-01T14:34:56.789+02:00 x"), T);
  equal(lineTime("hello"), null);
  equal(lineTime("@4zzz"), null);
  equal(lineTime("2024-05-01T12:34:56.789Zx"), null);
});

Deno.test("parseSince() takes durations ago, days, dates and RFC 3339 times", () => {
  const now = T;
  equal(parseSince("10m", now), now - 600_000);
  equal(parseSince("2h", now), now - 7_200_000);
  equal(parseSince("1d", now), now - 86_400_000);
  equal(parseSince("1w", now), now - 7 * 86_400_000);
  equal(parseSince("2024-05-01", now, 0), Date.UTC(2024, 4, 1));
  equal(parseSince("2024-05-01 12:30", now, 0), Date.UTC(2024, 4, 1, 12, 30));
  equal(parseSince("2024-05-01T12:30:15", now, -120), Date.UTC(2024, 4, 1, 10, 30, 15));
  equal(parseSince("2024-05-01T12:30:15Z", now), Date.UTC(2024, 4, 1, 12, 30, 15));
  equal(parseSince("today", now, 0), Date.UTC(2024, 4, 1));
  equal(parseSince("yesterday", now, 0), Date.UTC(2024, 3, 30));
  equal(parseSince("soon", now), null);
  equal(parseSince("-5m", now), null);
});
