/** Unit tests of the control protocol (v2): request decoding, reply framing, the read-only set. */

import assert from "node:assert/strict";
import {
  decodeReplyHeader,
  decodeRequest,
  encodeReply,
  errorReply,
  okReply,
  PROTOCOL_VERSION,
  ProtocolError,
  READ_ONLY_COMMANDS,
  WAITING_LINE,
} from "../../../lib/control/protocol.ts";

const dec = new TextDecoder();

Deno.test("encodeReply() frames a success as a header with the byte count, then the output", () => {
  const { header, body } = encodeReply(okReply("héllo\nworld"));
  assert.equal(dec.decode(header), `{"v":${PROTOCOL_VERSION},"ok":true,"bytes":12}\n`);
  assert.equal(dec.decode(body), "héllo\nworld");
  const h = decodeReplyHeader(dec.decode(header).trim());
  assert.deepEqual(h, { v: PROTOCOL_VERSION, ok: true, bytes: 12 });
});

Deno.test("encodeReply() sends an error as one header line and no body", () => {
  const { header, body } = encodeReply(errorReply("Unknown job: x", 1));
  assert.equal(body.length, 0);
  assert.deepEqual(decodeReplyHeader(dec.decode(header).trim()), {
    v: PROTOCOL_VERSION,
    ok: false,
    error: "Unknown job: x",
    code: 1,
  });
});

Deno.test("a reply of any size is framed the same way (no 1 MiB limit)", () => {
  const { header, body } = encodeReply(okReply("x".repeat(3 << 20)));
  assert.equal(body.length, 3 << 20);
  assert.match(dec.decode(header), /"bytes":3145728/);
});

Deno.test("decodeReplyHeader() reads waiting lines, and a v1 daemon's error line", () => {
  assert.deepEqual(decodeReplyHeader(dec.decode(WAITING_LINE).trim()), {
    v: PROTOCOL_VERSION,
    waiting: true,
  });
  const v1 = '{"v":1,"ok":false,"error":"unsupported protocol version 2","code":1}';
  assert.deepEqual(decodeReplyHeader(v1), {
    v: 1,
    ok: false,
    error: "unsupported protocol version 2",
    code: 1,
  });
  for (const bad of ["nope", "[]", '{"ok":true}', '{"ok":true,"bytes":-1}']) {
    assert.throws(() => decodeReplyHeader(bad), ProtocolError, bad);
  }
});

Deno.test("decodeRequest() refuses other versions with a reason, and malformed requests", () => {
  assert.throws(() => decodeRequest('{"v":1,"cmd":"status","args":[]}'), /protocol version 1/);
  assert.throws(() => decodeRequest("{"), /not JSON/);
  assert.throws(() => decodeRequest(`{"v":${PROTOCOL_VERSION},"args":[]}`), /no command/);
  assert.throws(
    () => decodeRequest(`{"v":${PROTOCOL_VERSION},"cmd":"x","args":[1]}`),
    /args must be strings/,
  );
  assert.deepEqual(decodeRequest(`{"v":${PROTOCOL_VERSION},"cmd":"list","args":[]}`), {
    v: PROTOCOL_VERSION,
    cmd: "list",
    args: [],
    options: {},
  });
});

Deno.test("the read-only socket serves what the daemon shows, never the environment", () => {
  assert.deepEqual([...READ_ONLY_COMMANDS].sort(), [
    "list",
    "ping",
    "show-config",
    "status",
    "usage",
    "version",
  ]);
});

Deno.test("decodeRequest() checks each option's type and drops unknown ones", () => {
  const req = (options: unknown) =>
    decodeRequest(JSON.stringify({ v: PROTOCOL_VERSION, cmd: "status", args: [], options }));
  assert.deepEqual(
    req({ noWait: true, json: false, job: "a", self: { job: "x", instance: "" }, other: 1 })
      .options,
    { noWait: true, json: false, job: "a", self: { job: "x", instance: "" } },
  );
  assert.deepEqual(req({ ignoreEvents: ["a", "b"] }).options, { ignoreEvents: ["a", "b"] });
  // Each of these reached the commands as it was (one answered "internal error").
  for (
    const [options, name] of [
      [{ self: { job: "x", instance: { toString: null } } }, "self"],
      [{ self: "x" }, "self"],
      [{ noWait: "yes" }, "noWait"],
      [{ job: 3 }, "job"],
      [{ ignoreEvents: [1] }, "ignoreEvents"],
    ] as const
  ) {
    assert.throws(() => req(options), new RegExp(`malformed request: option ${name}$`));
  }
});
