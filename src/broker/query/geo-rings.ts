/**
 * Simplicity of a polygon's linear ring, as OGC Simple Features (which clause 4.10 cites as [14])
 * requires: a ring must neither cross nor touch itself. A "bow tie" (corners listed in the wrong
 * order) is the usual client mistake, and GEOS 3.11 (PostgreSQL here) and 3.14 (PGlite) answer
 * `within` and `contains` differently for it, so it is refused before it reaches either.
 *
 * Not checked here: holes crossing the shell or each other, and polygons of a MultiPolygon that
 * overlap; those need PostGIS's ST_IsValid, which the write path can run in its transaction.
 */

type Position = readonly number[];

interface Corner {
  x: number;
  y: number;
  /** Its index in the ring as sent, for error messages. */
  index: number;
}

interface Edge {
  a: Corner;
  b: Corner;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/**
 * Bounds the edge-pair comparisons of the sweep below. Real outlines keep few edges open at once
 * (a 100 000-position ring costs a few million); only a contrived zigzag comes near this.
 */
const MAX_COMPARISONS = 20_000_000;

/** Why a closed ring (first position = last, at least 4) is not simple, or undefined when it is. */
export function findRingDefect(ring: readonly Position[]): string | undefined {
  const corners = distinctCorners(ring);
  if (corners.length < 3) {
    return 'a polygon ring needs at least three distinct corners';
  }
  const edges = corners.map((a, k) => edgeOf(a, corners[(k + 1) % corners.length] as Corner));
  return findSpike(edges) ?? findContact(edges);
}

/** Corners without the closing position and without repeats, which OGC allows and which would read as contacts. */
function distinctCorners(ring: readonly Position[]): Corner[] {
  const corners: Corner[] = [];
  for (let index = 0; index < ring.length - 1; index++) {
    const [x = 0, y = 0] = ring[index] ?? [];
    const previous = corners[corners.length - 1];
    if (!previous || !samePlace(previous, { x, y })) {
      corners.push({ x, y, index });
    }
  }
  const first = corners[0];
  const last = corners[corners.length - 1];
  if (first && last && corners.length > 1 && samePlace(first, last)) {
    corners.pop();
  }
  return corners;
}

function edgeOf(a: Corner, b: Corner): Edge {
  return {
    a,
    b,
    minX: Math.min(a.x, b.x),
    maxX: Math.max(a.x, b.x),
    minY: Math.min(a.y, b.y),
    maxY: Math.max(a.y, b.y),
  };
}

/** Consecutive edges share a corner by design; they only meet wrongly when the ring doubles back. */
function findSpike(edges: Edge[]): string | undefined {
  for (let k = 0; k < edges.length; k++) {
    const e = edges[k] as Edge;
    const { a, b } = e;
    const c = (edges[(k + 1) % edges.length] as Edge).b;
    const dot = (b.x - a.x) * (c.x - b.x) + (b.y - a.y) * (c.y - b.y);
    if (orientation(a, b, c) === 0 && dot < 0) {
      return `a polygon ring must not turn back on itself (at position ${b.index})`;
    }
  }
  return undefined;
}

/**
 * Sweeps the edges from west to east, comparing each with the edges still open at its west end
 * (Shamos–Hoey would compare fewer, but needs a balanced tree; this stays short and bounded).
 */
function findContact(edges: Edge[]): string | undefined {
  const order = edges.map((_, k) => k).sort((x, y) => (edges[x] as Edge).minX - (edges[y] as Edge).minX);
  let open: number[] = [];
  let comparisons = 0;
  for (const k of order) {
    const e = edges[k] as Edge;
    open = open.filter((j) => (edges[j] as Edge).maxX >= e.minX);
    for (const j of open) {
      comparisons += 1;
      if (comparisons > MAX_COMPARISONS) {
        return 'this polygon ring is too intricate to check; simplify it';
      }
      const other = edges[j] as Edge;
      if (!adjacent(j, k, edges.length) && other.maxY >= e.minY && other.minY <= e.maxY && meet(other, e)) {
        const [first, second] = [other.a.index, e.a.index].sort((x, y) => x - y);
        return `a polygon ring must not cross or touch itself (the edges from positions ${first} and ${second} meet)`;
      }
    }
    open.push(k);
  }
  return undefined;
}

function adjacent(j: number, k: number, count: number): boolean {
  return (j + 1) % count === k || (k + 1) % count === j;
}

/** Whether two segments share any point, their ends included. */
function meet(e: Edge, f: Edge): boolean {
  const o1 = orientation(e.a, e.b, f.a);
  const o2 = orientation(e.a, e.b, f.b);
  const o3 = orientation(f.a, f.b, e.a);
  const o4 = orientation(f.a, f.b, e.b);
  if (o1 * o2 < 0 && o3 * o4 < 0) {
    return true;
  }
  return (
    (o1 === 0 && inBox(e, f.a)) ||
    (o2 === 0 && inBox(e, f.b)) ||
    (o3 === 0 && inBox(f, e.a)) ||
    (o4 === 0 && inBox(f, e.b))
  );
}

type Point = { x: number; y: number };

/** The sign of the turn p → q → r: 1 anticlockwise, -1 clockwise, 0 collinear. */
function orientation(p: Point, q: Point, r: Point): number {
  return Math.sign((q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x));
}

/** For a point collinear with the edge: whether it lies on the edge rather than beyond an end. */
function inBox(e: Edge, p: Point): boolean {
  return p.x >= e.minX && p.x <= e.maxX && p.y >= e.minY && p.y <= e.maxY;
}

function samePlace(a: Point, b: Point): boolean {
  return a.x === b.x && a.y === b.y;
}
