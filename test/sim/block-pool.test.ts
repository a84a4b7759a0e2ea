import assert from "node:assert/strict";
import { test } from "node:test";
import { BlockPool } from "../../src/sim/block-pool.ts";

test("freed blocks keep their hash and are reused least-recently-freed first", () => {
  const pool = new BlockPool(3);
  const [b0, b1, b2] = [pool.allocate(), pool.allocate(), pool.allocate()];
  pool.cacheBlock(b0, 100);
  pool.cacheBlock(b1, 101);
  pool.cacheBlock(b2, 102);
  assert.equal(pool.numFree(), 0);
  assert.equal(pool.usage(), 1);
  pool.release(b1);
  pool.release(b0);
  pool.release(b2);
  assert.equal(pool.usage(), 0, "cached-but-unreferenced blocks count as free");
  assert.equal(pool.lookup(101), b1);
  const reused = pool.allocate();
  assert.equal(reused, b1, "the first freed block is evicted first");
  assert.equal(pool.lookup(101), undefined, "its hash is gone");
  assert.equal(pool.lookup(100), b0, "later-freed blocks stay cached");
  pool.touch(b0);
  assert.equal(pool.numFree(), 1, "a cache hit takes the block off the free queue");
  assert.equal(pool.allocate(), b2);
  assert.throws(() => pool.allocate(), /exhausted/);
});

test("a block shared by two requests is free only after both release it", () => {
  const pool = new BlockPool(2);
  const b = pool.allocate();
  pool.cacheBlock(b, 7);
  pool.touch(b);
  pool.release(b);
  assert.equal(pool.numFree(), 1);
  pool.release(b);
  assert.equal(pool.numFree(), 2);
  assert.throws(() => pool.release(b), /released twice/);
});
