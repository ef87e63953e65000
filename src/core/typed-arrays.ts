// Columns of numbers that grow as rows come (a CSV's bars, a backtest's md.bar positions): typed
// arrays, so that rows are no objects for the garbage collector to copy and trace.

/** `a` copied into a typed array of the same kind and twice its length. */
export function doubled<A extends Float64Array | Int32Array>(a: A): A {
  const b = new (a.constructor as new (length: number) => A)(a.length * 2)
  b.set(a)
  return b
}
