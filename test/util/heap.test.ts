import { describe, expect, it } from 'vitest';
import { boundHeapGrowth } from '../../src/util/heap.js';

describe('boundHeapGrowth', () => {
  it("leaves V8's heap growth to the operator who chose it", () => {
    expect(boundHeapGrowth(50, { execArgv: ['--heap-growing-percent=80'], nodeOptions: undefined })).toBe(
      false,
    );
    expect(
      boundHeapGrowth(50, {
        execArgv: [],
        nodeOptions: '--max-old-space-size=512 --heap_growing_percent=10',
      }),
    ).toBe(false);
  });

  it('caps it otherwise', () => {
    expect(
      boundHeapGrowth(50, { execArgv: ['--enable-source-maps'], nodeOptions: '--max-old-space-size=512' }),
    ).toBe(true);
  });
});
