/** Unit tests of StrictModes: which owners and modes make a job file or directory unsafe. */

import assert from "node:assert/strict";
import { dirModeProblem, fileModeProblem, refusal } from "../../../lib/job/strict_modes.ts";

Deno.test("fileModeProblem() wants root's file, writable by nobody else", () => {
  assert.equal(fileModeProblem({ uid: 0, mode: 0o100644 }, [0]), null);
  assert.equal(fileModeProblem({ uid: 0, mode: 0o100600 }, [0]), null);
  assert.equal(
    fileModeProblem({ uid: 0, mode: 0o100664 }, [0]),
    "writable by group (mode 0664)",
  );
  assert.equal(
    fileModeProblem({ uid: 0, mode: 0o100646 }, [0]),
    "writable by others (mode 0646)",
  );
  assert.equal(fileModeProblem({ uid: 1000, mode: 0o100644 }, [0]), "owned by uid 1000, not root");
  assert.equal(fileModeProblem({ uid: 1000, mode: 0o100644 }, [1000, 0]), null);
  assert.equal(
    fileModeProblem({ uid: 5, mode: 0o100644 }, [1000, 0]),
    "owned by uid 5, not uid 1000 or 0",
  );
});

Deno.test("dirModeProblem() lets directories above be group-writable or sticky, not open", () => {
  assert.equal(dirModeProblem({ uid: 0, mode: 0o40775 }, [0]), null); // Debian's /var/log
  assert.equal(dirModeProblem({ uid: 0, mode: 0o41777 }, [0]), null); // /tmp
  assert.equal(dirModeProblem({ uid: 0, mode: 0o40777 }, [0]), "writable by others (mode 0777)");
  assert.equal(dirModeProblem({ uid: 1000, mode: 0o40755 }, [0]), "owned by uid 1000, not root");
});

Deno.test("refusal() says what is wrong and why it matters", () => {
  assert.equal(
    refusal("it is writable by group (mode 0664)"),
    "job file refused: it is writable by group (mode 0664); only root may be able to change " +
      "what root runs",
  );
});
