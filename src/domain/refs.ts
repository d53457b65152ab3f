// Human references (REC0000041, ...): per company, from a counter; formatting is pure.

/** The refs of a block of `count` taken from a counter that stood at `last` afterwards (REC0000041...). */
export function refsOfBlock(prefix: string, last: bigint, count: number): string[] {
  if (count < 0 || BigInt(count) > last) throw new RangeError(`a block of ${count} cannot end at ${last}`);
  const first = last - BigInt(count) + 1n;
  return Array.from({ length: count }, (_, i) => `${prefix}${(first + BigInt(i)).toString().padStart(7, '0')}`);
}
