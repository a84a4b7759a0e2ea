// gRPC message framing for the ext_proc server: messages split across DATA chunks or several in
// one, and the frames it refuses (compressed, over the limit).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FrameError, grpcMessage, MessageReader, writePrefix } from "../../src/extproc/grpc-frames.ts";

const frame = (body: string) => {
  const f = Buffer.alloc(5 + Buffer.byteLength(body));
  f.write(body, 5);
  return writePrefix(f);
};

describe("gRPC framing", () => {
  it("writePrefix writes flag 0 and the big-endian length", () => {
    assert.deepEqual([...frame("abc")], [0, 0, 0, 0, 3, 0x61, 0x62, 0x63]);
  });

  it("reads messages whole, several per chunk, or split across chunks at any byte", () => {
    const all = Buffer.concat([frame("first"), frame(""), frame("x".repeat(300))]);
    for (let cut = 0; cut <= all.length; cut++) {
      const r = new MessageReader(1000);
      const got = [...r.push(all.subarray(0, cut)), ...r.push(all.subarray(cut))].map((b) => b.toString());
      assert.deepEqual(got, ["first", "", "x".repeat(300)], `cut at ${cut}`);
      assert.equal(r.pendingBytes, 0);
    }
    const r = new MessageReader(1000);
    assert.deepEqual(r.push(frame("abc").subarray(0, 6)), []);
    assert.equal(r.pendingBytes, 6, "an incomplete message is held");
  });

  it("refuses compressed messages (UNIMPLEMENTED) and messages over the limit (RESOURCE_EXHAUSTED)", () => {
    const compressed = frame("abc");
    compressed[0] = 1;
    assert.throws(
      () => new MessageReader(1000).push(compressed),
      (e) => e instanceof FrameError && e.code === 12,
    );
    assert.throws(
      () => new MessageReader(2).push(frame("abc")),
      (e) => e instanceof FrameError && e.code === 8 && /3 bytes exceeds the limit of 2/.test(e.message),
    );
  });

  it("grpcMessage percent-encodes only what gRPC requires", () => {
    assert.equal(grpcMessage("serves only /a.B/C: 100% ok"), "serves only /a.B/C: 100%25 ok");
    assert.equal(grpcMessage("naïve\n"), "na%C3%AFve%0A");
  });
});
